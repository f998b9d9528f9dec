"""Finding: the default checkpoint key was a public constant, and production accepted an
empty or one-character key.

Now no key ships with the code: each installation generates its own Ed25519 key on
first use (a 0600 file under GOVERNANCE_HOME), a configured secret under 32 bytes is
refused with a clear message, and a key file others may read is refused.
"""

from __future__ import annotations

import stat
import threading
from pathlib import Path

import pytest
from pydantic import ValidationError

import governance.core.config as config
from governance.audit.checkpoint import open_checkpoint
from governance.core.config import Settings
from governance.core.errors import ConfigurationError, IntegrityError
from governance.services import audit
from governance.services.context import Governance
from governance.services.signing import installation_signer, installation_verifier
from tests.utils.cli import govern


def _settings(home: Path, **kw) -> Settings:
    return Settings(home=home, environment="production", **kw)


@pytest.mark.parametrize("secret", ["", "x", "a" * 31, "é" * 15])
def test_a_configured_key_under_32_bytes_is_refused(tmp_path: Path, secret: str):
    with pytest.raises(ValidationError, match="needs at least 32 random bytes"):
        _settings(tmp_path, checkpoint_key=secret)


def test_the_cli_refuses_a_short_key_in_one_line(tmp_path: Path):
    # Run
    result = govern("audit", "verify", home=tmp_path / "home",
                    env={"GOVERNANCE_CHECKPOINT_KEY": "x"})
    # Assert
    assert result.code == 2 and result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1
    assert "GOVERNANCE_CHECKPOINT_KEY is 1 bytes" in result.stderr


def test_no_key_ships_with_the_code(tmp_path: Path):
    assert not hasattr(config, "DEV_CHECKPOINT_KEY")
    assert Settings(home=tmp_path).checkpoint_key is None


def test_each_installation_generates_its_own_private_key_on_first_use(tmp_path: Path):
    # Setup
    homes = [tmp_path / "a" / "home", tmp_path / "b" / "home"]
    # Run
    keys = [installation_signer(_settings(h)).verifier for h in homes]
    again = installation_signer(_settings(homes[0])).verifier
    # Assert
    assert keys[0] != keys[1] and again == keys[0]
    for home in homes:
        key_file = home / "keys" / "audit-signing.key"
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        assert stat.S_IMODE(key_file.parent.stat().st_mode) == 0o700
        assert key_file.read_text().startswith("PRIVATE+KEY+synth-governance/")


def test_concurrent_first_uses_agree_on_one_key(tmp_path: Path):
    # Setup
    settings = _settings(tmp_path / "home")
    seen: list[str] = []
    # Run
    threads = [threading.Thread(target=lambda: seen.append(
        installation_signer(settings).verifier.text)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Assert
    assert len(seen) == 8 and len(set(seen)) == 1
    assert [p.name for p in (tmp_path / "home" / "keys").iterdir()] == ["audit-signing.key"]


def test_a_checkpoint_of_another_installation_does_not_verify(tmp_path: Path):
    # Setup
    ours = Governance.open(_settings(tmp_path / "ours" / "home"))
    theirs = Governance.open(_settings(tmp_path / "theirs" / "home"))
    audit.write_checkpoint(ours)
    note = audit.write_checkpoint(theirs)
    # Run
    report = audit.verify(ours, checkpoint=note)
    # Assert
    assert audit.verify(theirs, checkpoint=note).ok
    assert not report.ok and "no signature by a trusted key" in report.reason


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604])
def test_a_signing_key_file_others_may_read_is_refused(tmp_path: Path, mode: int):
    # Setup
    settings = _settings(tmp_path / "home")
    installation_signer(settings)
    settings.resolved_signing_key_file.chmod(mode)
    # Run / Assert
    with pytest.raises(ConfigurationError, match="may be read by others"):
        installation_signer(settings)


def test_a_signing_key_file_that_is_a_symlink_is_refused(tmp_path: Path):
    # Setup
    real = _settings(tmp_path / "real" / "home")
    installation_signer(real)
    link = tmp_path / "link.key"
    link.symlink_to(real.resolved_signing_key_file)
    # Run / Assert
    with pytest.raises(ConfigurationError, match="symbolic link"):
        installation_signer(_settings(tmp_path / "home", signing_key_file=link))


def test_a_configured_secret_derives_one_stable_key(tmp_path: Path):
    # Setup
    secret = "k" * 32
    # Run
    a = installation_signer(_settings(tmp_path / "a", checkpoint_key=secret)).verifier
    b = installation_signer(_settings(tmp_path / "b", checkpoint_key=secret)).verifier
    c = installation_signer(_settings(tmp_path / "c", checkpoint_key=secret + "!")).verifier
    # Assert: nothing written, same secret same key, another secret another key.
    assert a == b and a != c
    assert not (tmp_path / "a" / "keys").exists()


def test_verifying_without_any_key_asks_for_the_public_key(tmp_path: Path):
    # Setup
    settings = _settings(tmp_path / "home")
    # Run / Assert
    with pytest.raises(ConfigurationError, match="--pubkey"):
        installation_verifier(settings)
    assert not settings.resolved_signing_key_file.exists()


def test_a_forged_checkpoint_text_is_refused(tmp_path: Path):
    # Setup
    gov = Governance.open(_settings(tmp_path / "home"))
    note = audit.write_checkpoint(gov)
    size = note.split("\n")[1]
    # Run
    forged = note.replace(f"\n{size}\n", f"\n{int(size) + 1}\n")
    # Assert
    assert not audit.verify(gov, checkpoint=forged).ok
    with pytest.raises(IntegrityError):
        open_checkpoint(forged, installation_verifier(gov.settings))
