# Sourced by scripts that run Java from Maven Central jars (kafka.sh, kstreams.sh).
#
# maven_jars DEST WHAT DEPENDENCIES
#   Fetches the runtime jars of DEPENDENCIES (<dependency> elements) into DEST,
#   replacing it whole; DEST/.complete marks a finished fetch. WHAT names them
#   in messages. On failure prints mvn's log and returns 1.
maven_jars() {
  local dest=$1 what=$2 deps=$3 work
  command -v mvn >/dev/null || { echo "mvn not found (run scripts/install-deps.sh)" >&2; return 1; }
  mkdir -p "$(dirname "$dest")"
  work=$(mktemp -d "$(dirname "$dest")/.fetch.XXXXXX")
  cat >"$work/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>kactor</groupId><artifactId>fetch</artifactId><version>1</version>
  <packaging>pom</packaging>
  <dependencies>
$deps
  </dependencies>
</project>
POM
  echo "fetching $what into $dest" >&2
  if ! mvn -q -B -Dstyle.color=never -f "$work/pom.xml" \
      org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy-dependencies \
      -DincludeScope=runtime -DoutputDirectory="$work/lib" >"$work/mvn.log" 2>&1; then
    sed $'s/\e\\[[0-9;]*m//g' "$work/mvn.log" >&2   # minus ANSI colour codes
    rm -rf "$work"
    return 1
  fi
  echo "$what" >"$work/lib/.complete"
  rm -rf "$dest"
  mv "$work/lib" "$dest"
  rm -rf "$work"
}
