# Source this: build the bundle and the .deb with the one build command, and name them for
# tests/packaging/test_frozen.py (which starts the bundle, and installs, runs and removes the .deb).
started=$(date +%s)
mkdir -p build
uv run python packaging/build.py > build/build.log 2>&1 || { tail -40 build/build.log; exit 1; }
grep -E "^(bundle|deb):" build/build.log
export LANEWATCH_BUNDLE="$PWD/dist/lanewatch/lanewatch"
LANEWATCH_DEB="$(ls "$PWD"/dist/lanewatch_*.deb)"
export LANEWATCH_DEB
echo "built in $(( $(date +%s) - started )) s"
