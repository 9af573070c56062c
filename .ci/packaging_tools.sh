# Source this: the Debian tools the tests use, when missing: for the packaging tests makensis, wixl
# and msitools (the Windows installers), 7z to list them, the desktop-entry and AppStream
# validators; dovecot, the IMAP server the mailbox tests start on loopback.
need=()
for pair in makensis:nsis wixl:wixl msiinfo:msitools 7z:p7zip-full desktop-file-validate:desktop-file-utils \
            appstreamcli:appstream dpkg-deb:dpkg dovecot:dovecot-imapd; do
  PATH="$PATH:/usr/sbin" command -v "${pair%%:*}" >/dev/null 2>&1 || need+=("${pair#*:}")
done
if [ ${#need[@]} -gt 0 ]; then
  as_root=(); [ "$(id -u)" = 0 ] || as_root=(sudo)
  echo "installing ${need[*]} for the packaging tests"
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}" >/dev/null \
    || { "${as_root[@]}" apt-get update -q >/dev/null && "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}" >/dev/null; }
fi
