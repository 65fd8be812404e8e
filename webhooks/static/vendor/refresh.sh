#!/usr/bin/env bash
# Re-fetch the vendored Twilio Voice JavaScript SDK (the desk's softphone) from the npm
# registry at the pinned version, with its licence. The desk serves these files itself:
# no CDN. Change VERSION below, run this script, commit the result.
set -euo pipefail
VERSION=2.18.5
here="$(cd "$(dirname "$0")" && pwd)"
target="$here/twilio-voice"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "@twilio/voice-sdk@$VERSION" >/dev/null && tar -xzf twilio-voice-sdk-"$VERSION".tgz)
mkdir -p "$target"
cp "$work/package/dist/twilio.min.js" "$target/twilio.min.js"
cp "$work/package/LICENSE.md" "$target/LICENSE.md"
sha="$(sha256sum "$target/twilio.min.js" | cut -d' ' -f1)"
printf '@twilio/voice-sdk %s\ndist/twilio.min.js sha256 %s\n' "$VERSION" "$sha" > "$target/VERSION"
echo "vendored @twilio/voice-sdk $VERSION into $target"
