"""A real IMAP server on loopback for the mailbox tests: Debian's dovecot, started with a
configuration of its own in a temporary folder (a passwd-file user, a Maildir), and stopped
after. Outside CI a machine without dovecot skips these tests and says so; in CI they must run."""
from __future__ import annotations

import imaplib
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers.net import free_port, wait_for_port

USER, PASSWORD = "edge@direct.northside-fm.example", "s3cret-edge"
CONFIG = """protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {user}
default_internal_group = {group}
default_login_user = {user}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users
}}
userdb {{
  driver = static
  args = uid={user} gid={group} home={root}/mail/%u
}}
mail_location = maildir:~/Maildir
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
  chroot =
}}
service anvil {{
  chroot =
}}
"""


@dataclass
class Dovecot:
    port: int
    root: Path

    def append(self, *mails: bytes, folder: str = "INBOX") -> None:
        """Deliver mails into the user's folder, as a HISP would."""
        imap = imaplib.IMAP4("127.0.0.1", self.port)
        imap.login(USER, PASSWORD)
        for m in mails:
            imap.append(folder, None, None, m)
        imap.logout()

    def remake(self, folder: str) -> None:
        """Delete the folder and make it again, empty: it has a new UIDVALIDITY (as after a server restore)."""
        imap = imaplib.IMAP4("127.0.0.1", self.port)
        imap.login(USER, PASSWORD)
        imap.delete(folder)
        time.sleep(1.1)  # dovecot's UIDVALIDITY is a time in seconds
        imap.create(folder)
        imap.logout()

    def make(self, folder: str) -> None:
        imap = imaplib.IMAP4("127.0.0.1", self.port)
        imap.login(USER, PASSWORD)
        imap.create(folder)
        imap.logout()


def start():
    binary = shutil.which("dovecot") or ("/usr/sbin/dovecot" if os.path.exists("/usr/sbin/dovecot") else None)
    if binary is None:
        if os.environ.get("CI") == "true":
            pytest.fail("dovecot is missing: CI must test the IMAP source against it (apt-get install dovecot-imapd)")
        pytest.skip("no dovecot here (Debian: apt-get install dovecot-imapd) to test the IMAP source against")
    root = Path(tempfile.mkdtemp(prefix="lanewatch-dovecot-"))  # not pytest's: its 0700 parents keep dovecot's user out
    root.chmod(0o755)
    me = pwd.getpwuid(os.getuid())
    user = "nobody" if os.getuid() == 0 else me.pw_name
    group = "nogroup" if os.getuid() == 0 else subprocess.run(["id", "-gn"], capture_output=True, text=True).stdout.strip()
    port = free_port()
    config = root / "dovecot.conf"
    config.write_text(CONFIG.format(root=root, port=port, user=user, group=group))
    (root / "users").write_text(f"{USER}:{{PLAIN}}{PASSWORD}\n")
    if os.getuid() == 0:
        shutil.chown(root, user, group)
        for p in root.iterdir():
            shutil.chown(p, user, group)
    # the master leaves for the background holding what it was given as stdout: never a pipe (it would never end)
    subprocess.run([binary, "-c", str(config)], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   stdin=subprocess.DEVNULL, timeout=30)
    try:
        wait_for_port(port, 20)
    except Exception:
        log = (root / "dovecot.log").read_text() if (root / "dovecot.log").exists() else "no log"
        pytest.fail(f"dovecot did not start: {log[-2000:]}")

    def stop() -> None:
        subprocess.run([binary, "-c", str(config), "stop"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30)
        shutil.rmtree(root, ignore_errors=True)

    return Dovecot(port, root), stop
