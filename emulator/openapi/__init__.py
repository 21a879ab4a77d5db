"""The emulated API described: the OpenAPI 3.1 document (served at /openapi.json) and the Postman collection."""
