"""A request's headers as verification and scenario rules read them, without copying them."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from multidict import CIMultiDictProxy


class HeaderView(Mapping[str, str]):
    """The request's headers as verification reads them: any case, repeated headers joined with ", "."""

    __slots__ = ("_headers",)

    def __init__(self, headers: CIMultiDictProxy[str]) -> None:
        self._headers = headers

    def __getitem__(self, name: str) -> str:
        values = self._headers.getall(name)
        return values[0] if len(values) == 1 else ", ".join(values)

    def get(self, name: str, default: str | None = None) -> str | None:  # type: ignore[override]
        return self[name] if name in self._headers else default

    def __contains__(self, name: object) -> bool:
        return name in self._headers

    def __iter__(self) -> Iterator[str]:
        return iter(dict.fromkeys(name.lower() for name in self._headers))

    def __len__(self) -> int:
        return len({name.lower() for name in self._headers})
