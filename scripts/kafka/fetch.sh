#!/usr/bin/env bash
# Copies the Kafka broker jars (see pom.xml) into <repo>/.cache/kafka/<version>/libs.
# Idempotent: does nothing when the libs directory already holds the broker jar.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
version="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$here/pom.xml")"
libs="$repo/.cache/kafka/$version/libs"
if ls "$libs"/kafka_2.13-"$version".jar >/dev/null 2>&1; then
  echo "kafka $version jars present in $libs"
  exit 0
fi
command -v mvn >/dev/null || { echo "mvn not found: apt-get install maven" >&2; exit 1; }
tmp="$libs.tmp.$$"
rm -rf "$tmp"
mvn -q -B -f "$here/pom.xml" dependency:copy-dependencies \
  -DincludeScope=runtime -DoutputDirectory="$tmp"
rm -rf "$libs"
mv "$tmp" "$libs"
echo "kafka $version jars copied to $libs ($(ls "$libs" | wc -l) files)"
