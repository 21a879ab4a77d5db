"""The emulator's own API under /_emulator: health, journal, clock, rate windows and more."""
