"""Secrets Manager: the values read once per container (admin key, encryption keys, operator secret).

A secret is read on first use and kept; ``refresh`` reads it again, at most once per ``min_interval``, so a
rotated value is picked up without a cold start and a flood of unknown keys cannot turn into a flood of reads.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from hookline.core.crypto import Keyring
from hookline.core.errors import DependencyError
from hookline.storage.table import aws_errors

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient


class SecretValue:
    def __init__(
        self,
        client: SecretsManagerClient,
        secret_id: str,
        min_interval: float = 30.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._secret_id = secret_id
        self._min_interval = min_interval
        self._monotonic = monotonic
        self._value: str | None = None
        self._read_at = float("-inf")
        self._lock = threading.Lock()

    def get(self) -> str:
        with self._lock:
            if self._value is None:
                self._read()
            assert self._value is not None
            return self._value

    def refresh(self) -> bool:
        """Read the secret again unless it was read recently. True when it was read."""
        with self._lock:
            if self._monotonic() - self._read_at < self._min_interval:
                return False
            self._read()
            return True

    def _read(self) -> None:
        with aws_errors("read secret"):
            value = self._client.get_secret_value(SecretId=self._secret_id).get("SecretString", "")
        if not value:
            raise DependencyError("a secret Hookline needs is empty")
        self._value = value
        self._read_at = self._monotonic()


class KeyringSource:
    """The encryption keyring, parsed once and re-read when a sealed value names a key it lacks."""

    def __init__(self, secret: SecretValue) -> None:
        self._secret = secret
        self._keyring: Keyring | None = None
        self._parsed_from: str | None = None

    def keyring(self) -> Keyring:
        value = self._secret.get()
        if self._keyring is None or value != self._parsed_from:
            self._keyring, self._parsed_from = Keyring.parse(value), value
        return self._keyring

    def refreshed(self) -> Keyring | None:
        """A freshly read keyring, or None when it was read too recently to try again."""
        return self.keyring() if self._secret.refresh() else None
