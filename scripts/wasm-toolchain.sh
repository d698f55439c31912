# Sourced by scripts/build.sh and scripts/package.sh: `wasm CMD…` runs CMD
# (trunk, or cargo for the wasm target) with the toolchain the viewers'
# wasm is built with. Everything else (the backend, the stand-in, the
# native tests, clippy) stays on the stable toolchain.
#
# The machine's nightly rebuilds std for the wasm (`build-std`) with
# `optimize_for_size`, and panics abort at once instead of formatting a
# message nobody reads (`-Cpanic=immediate-abort`: a panic in the wasm was
# already an abort). The watch page's wasm is 106.3 -> 97.8 KB gzip with
# them (docs/notes/size.md). scripts/setup.sh installs the nightly's wasm
# target and std sources.
WASM_TOOLCHAIN=nightly
wasm() {
  RUSTUP_TOOLCHAIN="$WASM_TOOLCHAIN" \
  CARGO_UNSTABLE_BUILD_STD=std,panic_abort \
  CARGO_UNSTABLE_BUILD_STD_FEATURES=optimize_for_size \
  CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="-Zunstable-options -Cpanic=immediate-abort" \
    "$@"
}
