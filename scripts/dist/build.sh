#!/usr/bin/env bash
# Builds the self-contained `recur` (`./run.sh dist`): the Swift runtime and Foundation linked
# statically (--static-swift-stdlib), OpenBLAS, HDF5 (with szip/libaec), zlib and libgfortran from
# Debian's static archives, MPI left out (--disable-default-traits). The result needs only glibc,
# libstdc++ and libgcc at run time; scripts/dist/check.sh checks that.
#
# SwiftPM asks pkg-config for each system library; pkg-config files written here point it at a folder
# that holds only the static archives, so the linker cannot pick the shared ones. HDF5's network
# driver (ROS3, which needs libcurl) is never referenced by Recur, so its objects are not linked.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
multiarch="$(gcc -print-multiarch)"
libs="$root/.build/dist-libs"
mkdir -p "$libs/pkgconfig" "$root/.build/dist"
archive() {
    local found=""
    for candidate in "$@"; do [ -f "$candidate" ] && { found="$candidate"; break; }; done
    [ -n "$found" ] || { echo "dist: none of $* exists (see scripts/debian-packages.txt)" >&2; exit 1; }
    ln -sf "$found" "$libs/"
}
archive "/usr/lib/$multiarch/openblas-pthread/libopenblas.a"
archive "/usr/lib/$multiarch/hdf5/serial/libhdf5.a"
archive "/usr/lib/$multiarch/libz.a"
archive "/usr/lib/$multiarch/libsz.a"
archive "/usr/lib/$multiarch/libaec.a"
archive "$(gcc -print-file-name=libgfortran.a)"
archive "$(gcc -print-file-name=libquadmath.a)"

write_pc() { # name cflags libs
    printf 'Name: %s\nDescription: static %s for the self-contained recur\nVersion: 0\nCflags: %s\nLibs: -L%s %s\n' \
        "$1" "$1" "$2" "$libs" "$3" > "$libs/pkgconfig/$1.pc"
}
write_pc openblas "$(pkg-config --cflags openblas)" "-lopenblas -lgfortran -lquadmath -lpthread -lm"
write_pc hdf5 "$(pkg-config --cflags hdf5)" "-lhdf5 -lsz -laec -lz -ldl -lm"
write_pc zlib "$(pkg-config --cflags zlib)" "-lz"

PKG_CONFIG_PATH="$libs/pkgconfig" swift build --package-path "$root" -c release --product recur \
    --disable-default-traits --static-swift-stdlib --scratch-path "$root/.build/dist-build" >&2
cp "$root/.build/dist-build/release/recur" "$root/.build/dist/recur"
echo "$root/.build/dist/recur"
