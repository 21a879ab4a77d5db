"""The iFrame plugin: the page an authorized_url opens, the browser SDK, and the demo host page."""
