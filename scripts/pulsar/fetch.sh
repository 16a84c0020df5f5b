#!/usr/bin/env bash
# Copies the Pulsar standalone broker jars (see pom.xml) into <repo>/.cache/pulsar/<version>/libs.
# Idempotent: does nothing when the libs directory already holds the broker jar. The copy goes
# to a temporary directory first and is renamed into place, so an interrupted fetch never
# leaves a half-filled libs directory that a later run would take for complete.
# A cold fetch downloads ~260 MB from Maven Central (~3 min here); 316 jars, ~234 MB.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
version="$(sed -n 's:.*<pulsar.version>\(.*\)</pulsar.version>.*:\1:p' "$here/pom.xml")"
libs="$repo/.cache/pulsar/$version/libs"
if ls "$libs"/pulsar-broker-"$version".jar "$libs"/pulsar-websocket-"$version".jar >/dev/null 2>&1; then
  echo "pulsar $version jars present in $libs ($(ls "$libs" | wc -l) files)"
  exit 0
fi
command -v mvn >/dev/null || { echo "mvn not found: apt-get install maven" >&2; exit 1; }
command -v java >/dev/null || { echo "java not found: apt-get install openjdk-17-jre-headless" >&2; exit 1; }
mkdir -p "$(dirname "$libs")"
tmp="$libs.tmp.$$"
trap 'rm -rf "$tmp"' EXIT
rm -rf "$tmp"
mvn -q -B -f "$here/pom.xml" dependency:copy-dependencies \
  -DincludeScope=runtime -DoutputDirectory="$tmp"
test -f "$tmp/pulsar-broker-$version.jar" || { echo "pulsar-broker-$version.jar missing after mvn" >&2; exit 1; }
rm -rf "$libs"
mv "$tmp" "$libs"
echo "pulsar $version jars copied to $libs ($(ls "$libs" | wc -l) files, $(du -sh "$libs" | cut -f1))"
