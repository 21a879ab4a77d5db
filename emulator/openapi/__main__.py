"""``python -m emulator.openapi [--postman]``: print the OpenAPI document of the app's routes, or its Postman
collection (``scripts/regenerate`` writes both under docs/)."""

import sys

from emulator.app import ROUTES
from emulator.openapi import postman
from emulator.openapi.document import build_document, render

if "--postman" in sys.argv[1:]:
    sys.stdout.write(postman.render(build_document(ROUTES)))
else:
    sys.stdout.write(render(ROUTES))
