"""Values in scenario ``data`` overrides: ``{{request.amount}}``, ``{{token.last_4}}``, ``{{faker.name}}``,
``{{now}}``."""

from __future__ import annotations

import random
import re
import uuid
from collections.abc import Mapping
from typing import Any

_TEMPLATE = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_.]*)\s*\}\}")
#: Faker providers a template may call (no arguments); anything else is refused at render time.
FAKER_ALLOWED = frozenset({"name", "first_name", "last_name", "company", "street_address", "city", "state_abbr",
                           "zipcode", "email", "phone_number", "uuid4", "bban", "aba", "iban", "word",
                           "sentence", "random_int", "date", "numerify", "bothify", "swift", "credit_card_number"})


class Templates:
    """Renders override values with request fields and seeded Faker data."""

    def __init__(self, seed: int | None = None) -> None:
        self._seed = seed
        self._faker: Any = None
        self._random = random.Random(seed)

    @property
    def faker(self) -> Any:
        if self._faker is None:
            from faker import Faker  # imported on first use: it is slow to import

            self._faker = Faker("en_US")
            self._faker.seed_instance(self._seed if self._seed is not None else self._random.getrandbits(32))
        return self._faker

    def render(self, value: Any, context: Mapping[str, Any]) -> Any:
        """Render every template in ``value`` (recursively); a value that is one template keeps its type."""
        if isinstance(value, str):
            whole = _TEMPLATE.fullmatch(value.strip())
            if whole:
                return self._lookup(whole.group(1), context)
            return _TEMPLATE.sub(lambda m: str(self._lookup(m.group(1), context)), value)
        if isinstance(value, dict):
            return {k: self.render(v, context) for k, v in value.items()}
        if isinstance(value, list):
            return [self.render(v, context) for v in value]
        return value

    def _lookup(self, expression: str, context: Mapping[str, Any]) -> Any:
        head, _, rest = expression.partition(".")
        if head == "faker":
            if rest not in FAKER_ALLOWED:
                return f"{{{{unknown faker provider {rest}}}}}"
            return getattr(self.faker, rest)()
        if head == "uuid":
            return str(uuid.UUID(int=self._random.getrandbits(128), version=4))
        current: Any = context.get(head)
        for part in rest.split(".") if rest else []:
            if isinstance(current, Mapping):
                current = current.get(part)
            elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
                current = current[int(part)]
            else:
                return None
        return current
