"""``python -m emulator.openapi``: print the OpenAPI document (``scripts/regenerate`` writes docs/openapi.json)."""

from emulator.openapi.document import main

raise SystemExit(main())
