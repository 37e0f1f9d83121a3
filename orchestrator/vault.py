"""The encrypted secrets vault: named secrets in one file sealed with AES-256-GCM.

Secrets come from the environment (``RPA_SECRET_<NAME>``) or from this vault; workflows reach
both only through ``secrets.NAME``. The file (default ``<home>/vault.json.enc``, or the
``vault_file`` setting / ``RPA_VAULT_FILE``) is JSON::

    {"format": "rpa-vault", "version": 1, "kdf": "raw" | "scrypt", "salt": "...",
     "nonce": "...", "ciphertext": "..."}

The plaintext is ``{"secrets": {"NAME": "value", ...}}``: names are encrypted too, so the file
tells a reader nothing but its size. The header fields are the AES-GCM associated data, so
editing any byte of the file makes it undecryptable rather than subtly different.

The key comes from ``RPA_VAULT_KEY`` or, when the optional ``keyring`` package is installed and
has a backend, from the OS keyring (service ``digital-employee``, user ``vault-key``). It is
either a key made by ``rpa secrets keygen`` (``rpavk_`` + 32 random bytes, used as is) or a
passphrase of at least 12 characters, stretched with scrypt (N=2**15, r=8, p=1) and the file's
salt. Each write uses a fresh random nonce and replaces the file atomically (mode 0600) under
an exclusive lock, so two ``rpa secrets set`` never lose each other's change.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import re
import secrets as random_source
import tempfile
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from orchestrator.errors import ConfigError

VAULT_FORMAT = "rpa-vault"
VAULT_VERSION = 1
DEFAULT_FILE_NAME = "vault.json.enc"
KEY_ENV = "RPA_VAULT_KEY"
FILE_ENV = "RPA_VAULT_FILE"
KEY_PREFIX = "rpavk_"
KEYRING_SERVICE = "digital-employee"
KEYRING_USER = "vault-key"
MIN_PASSPHRASE = 12
MAX_VALUE_BYTES = 64 * 1024
MAX_FILE_BYTES = 16 * 1024 * 1024
NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,99}$")
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**15, 8, 1


class VaultError(ConfigError):
    """The vault cannot be used: no key, wrong key, altered or unreadable file, bad name."""


def check_name(name: str) -> str:
    """The canonical (upper-case) form of a secret name; refuses anything but ``[A-Za-z][A-Za-z0-9_]*``."""
    if not NAME.match(name):
        raise VaultError(
            f"secret name {name!r} is not allowed: use letters, digits and '_', starting with a letter"
        )
    return name.upper()


@dataclass(frozen=True)
class VaultKey:
    """Key material as given: a generated key (used as is) or a passphrase (stretched per file)."""

    material: bytes
    generated: bool
    origin: str

    def __repr__(self) -> str:  # never show the material, even in a debugger or a log
        return f"VaultKey(generated={self.generated}, origin={self.origin!r})"

    @classmethod
    def from_text(cls, text: str, origin: str) -> VaultKey:
        text = text.strip()
        if text.startswith(KEY_PREFIX):
            try:
                raw = base64.urlsafe_b64decode(text[len(KEY_PREFIX) :] + "==")
            except ValueError:
                raw = b""
            if len(raw) != 32:
                raise VaultError(
                    f"{origin} starts with {KEY_PREFIX!r} but is not a key made by rpa secrets keygen"
                )
            return cls(raw, True, origin)
        if len(text) < MIN_PASSPHRASE:
            raise VaultError(
                f"{origin} is too short: use a key from 'rpa secrets keygen' or a passphrase of at "
                f"least {MIN_PASSPHRASE} characters"
            )
        return cls(text.encode("utf-8"), False, origin)

    @property
    def kdf(self) -> str:
        return "raw" if self.generated else "scrypt"

    def derive(self, kdf: str, salt: bytes) -> bytes:
        """The 32-byte AES key for a file written with ``kdf`` and ``salt``."""
        if kdf != self.kdf:
            raise VaultError(
                f"the vault was sealed with a {'generated key' if kdf == 'raw' else 'passphrase'}, "
                f"but {self.origin} holds a {'generated key' if self.generated else 'passphrase'}"
            )
        return self.material if self.generated else _stretch(self.material, salt)


@lru_cache(maxsize=8)
def _stretch(passphrase: bytes, salt: bytes) -> bytes:
    return Scrypt(salt=salt, length=32, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P).derive(passphrase)


def generate_key() -> str:
    """A new random vault key, as text to keep in ``RPA_VAULT_KEY`` or the OS keyring."""
    return KEY_PREFIX + base64.urlsafe_b64encode(random_source.token_bytes(32)).decode("ascii").rstrip("=")


def _keyring_text() -> str | None:
    try:
        import keyring  # optional: only when installed and configured with a backend
    except ImportError:
        return None
    try:
        return keyring.get_password(KEYRING_SERVICE, KEYRING_USER)
    except Exception:  # no backend, locked keyring...: behave as if no key were stored there
        return None


def key_from_environment(
    environ: Mapping[str, str] | None = None, *, use_keyring: bool = True
) -> VaultKey | None:
    """The vault key from ``RPA_VAULT_KEY``, else from the OS keyring, else None."""
    env = os.environ if environ is None else environ
    text = env.get(KEY_ENV)
    if text:
        return VaultKey.from_text(text, KEY_ENV)
    stored = _keyring_text() if use_keyring else None
    if stored:
        return VaultKey.from_text(stored, f"the OS keyring entry {KEYRING_SERVICE}/{KEYRING_USER}")
    return None


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: Any, what: str, path: Path) -> bytes:
    try:
        return base64.b64decode(str(text), validate=True)
    except ValueError:
        raise VaultError(f"the vault file {path} is damaged: {what} is not base64") from None


def _associated_data(kdf: str, salt: bytes) -> bytes:
    return json.dumps(
        {"format": VAULT_FORMAT, "version": VAULT_VERSION, "kdf": kdf, "salt": _b64(salt)}, sort_keys=True
    ).encode("utf-8")


class VaultFile:
    """One vault file: read, change and rewrite it with a key."""

    def __init__(self, path: Path, key: VaultKey | None) -> None:
        self.path = path
        self.key = key

    def _require_key(self) -> VaultKey:
        if self.key is None:
            raise VaultError(
                f"no vault key: set {KEY_ENV} (made with 'rpa secrets keygen') to use the vault {self.path}"
            )
        return self.key

    def exists(self) -> bool:
        return self.path.is_file()

    def read(self) -> dict[str, str]:
        """All secrets (empty when the file does not exist yet)."""
        if not self.exists():
            return {}
        key = self._require_key()
        try:
            raw = self.path.read_bytes()
        except OSError as exc:
            raise VaultError(f"cannot read the vault file {self.path}: {exc.strerror or exc}") from None
        if len(raw) > MAX_FILE_BYTES:
            raise VaultError(f"the vault file {self.path} is larger than {MAX_FILE_BYTES} bytes")
        try:
            envelope = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise VaultError(f"the vault file {self.path} is not a vault (not JSON)") from None
        if not isinstance(envelope, dict) or envelope.get("format") != VAULT_FORMAT:
            raise VaultError(f"the vault file {self.path} is not a vault (format is not {VAULT_FORMAT!r})")
        if envelope.get("version") != VAULT_VERSION:
            raise VaultError(
                f"the vault file {self.path} has version {envelope.get('version')!r}; expected 1"
            )
        kdf = str(envelope.get("kdf"))
        salt = _unb64(envelope.get("salt"), "salt", self.path)
        nonce = _unb64(envelope.get("nonce"), "nonce", self.path)
        sealed = _unb64(envelope.get("ciphertext"), "ciphertext", self.path)
        aes_key = key.derive(kdf, salt)
        try:
            plain = AESGCM(aes_key).decrypt(nonce, sealed, _associated_data(kdf, salt))
        except (InvalidTag, ValueError):
            raise VaultError(
                f"cannot open the vault file {self.path}: wrong key in {key.origin}, or the file was altered"
            ) from None
        data = json.loads(plain)
        stored = data.get("secrets") if isinstance(data, dict) else None
        if not isinstance(stored, dict):
            raise VaultError(f"the vault file {self.path} decrypts to something that is not a vault")
        return {str(k): str(v) for k, v in stored.items()}

    def write(self, stored: Mapping[str, str], key: VaultKey | None = None) -> None:
        """Seal ``stored`` with ``key`` (default: this file's key) and replace the file atomically."""
        key = key or self._require_key()
        salt = random_source.token_bytes(16)
        nonce = random_source.token_bytes(12)
        plain = json.dumps({"secrets": dict(sorted(stored.items()))}, ensure_ascii=False).encode("utf-8")
        sealed = AESGCM(key.derive(key.kdf, salt)).encrypt(nonce, plain, _associated_data(key.kdf, salt))
        envelope = {
            "format": VAULT_FORMAT,
            "version": VAULT_VERSION,
            "kdf": key.kdf,
            "salt": _b64(salt),
            "nonce": _b64(nonce),
            "ciphertext": _b64(sealed),
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(
            dir=self.path.parent, prefix=f".{self.path.name}.", suffix=".tmp"
        )
        try:
            os.fchmod(handle, 0o600)
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                json.dump(envelope, stream, indent=1)
                stream.flush()
                os.fsync(stream.fileno())
            os.replace(temporary, self.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold an exclusive lock for a read-change-write (other writers wait)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock_path = self.path.with_name(self.path.name + ".lock")
        descriptor = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            yield
        finally:
            os.close(descriptor)

    def set(self, name: str, value: str) -> bool:
        """Store ``value`` under ``name``; True when it replaced an existing value."""
        name = check_name(name)
        if not value:
            raise VaultError("a secret value cannot be empty")
        if len(value.encode("utf-8")) > MAX_VALUE_BYTES:
            raise VaultError(f"a secret value is limited to {MAX_VALUE_BYTES} bytes")
        with self.locked():
            stored = self.read()
            replaced = name in stored
            stored[name] = value
            self.write(stored)
        return replaced

    def remove(self, name: str) -> bool:
        """Delete ``name``; False when it was not there."""
        name = check_name(name)
        with self.locked():
            stored = self.read()
            if name not in stored:
                return False
            del stored[name]
            self.write(stored)
        return True

    def rekey(self, new_key: VaultKey) -> int:
        """Re-seal every secret with ``new_key``; returns how many there are."""
        with self.locked():
            stored = self.read()
            self.write(stored, new_key)
        self.key = new_key
        return len(stored)


class VaultSecretSource:
    """A ``SecretSource`` over a vault file; re-reads the file when it changes on disk."""

    def __init__(self, vault: VaultFile) -> None:
        self.vault = vault
        self._lock = threading.Lock()
        self._stamp: tuple[int, int, int] | None = None
        self._values: dict[str, str] = {}

    def __repr__(self) -> str:
        return f"VaultSecretSource({str(self.vault.path)!r})"

    def _current(self) -> dict[str, str]:
        with self._lock:
            try:
                info = self.vault.path.stat()
                stamp: tuple[int, int, int] | None = (info.st_ino, info.st_mtime_ns, info.st_size)
            except FileNotFoundError:
                stamp = None
            if stamp != self._stamp or stamp is None:
                self._values = self.vault.read()
                self._stamp = stamp
            return self._values

    def get(self, name: str) -> str | None:
        if not NAME.match(name):
            return None
        return self._current().get(name.upper())

    def names(self) -> list[str]:
        return sorted(self._current())


def vault_path(settings: Any) -> tuple[Path, bool]:
    """Where the vault file is, and whether that place was configured explicitly."""
    configured = getattr(settings, "vault_file", None) or os.environ.get(FILE_ENV)
    if configured:
        return Path(configured).expanduser(), True
    return Path(settings.home) / DEFAULT_FILE_NAME, False


def vault_for(settings: Any, environ: Mapping[str, str] | None = None) -> VaultFile:
    """The vault file of an installation, with its key when one is available."""
    path, _ = vault_path(settings)
    return VaultFile(path, key_from_environment(environ))


def vault_source_for(settings: Any, environ: Mapping[str, str] | None = None) -> VaultSecretSource | None:
    """The vault as a secret source, or None when no vault is configured or present.

    With a key at hand the vault is opened at once, so a wrong key stops the command with a
    clear message before any run starts. Without a key the source is still returned: a step
    that reads a vault secret then fails with "no vault key", while commands that never touch a
    secret (listing runs, the dashboard) keep working.
    """
    path, explicit = vault_path(settings)
    if not path.is_file():
        if explicit:
            raise VaultError(
                f"the vault file {path} (from the vault_file setting or {FILE_ENV}) does not exist"
            )
        return None
    vault = VaultFile(path, key_from_environment(environ))
    source = VaultSecretSource(vault)
    if vault.key is not None:
        source.names()
    return source
