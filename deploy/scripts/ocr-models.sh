#!/usr/bin/env bash
# Fetches what the PP-OCR engine of the scan worker needs into .dangan/ocr,
# idempotently, and checks every file against its pinned sha256:
#   libonnxruntime.so.1.32.0   ONNX Runtime, from PyPI's onnxruntime wheel
#   det.orig.onnx, rec.orig.onnx
#                              PP-OCRv4 detection and recognition (Apache-2.0),
#                              from PyPI's rapidocr-onnxruntime wheel
#   det.onnx, rec.onnx         the same models with their activations fused
#                              (ocr_fuse.py: about twice as fast on one thread,
#                              the same outputs), which the engine loads
# Only pip is used to fetch (so a configured package index or mirror applies);
# the rewrite runs in its own venv (.dangan/ocr-venv, pinned onnx and
# onnxruntime); nothing of Python is needed at run time.
set -euo pipefail
cd "$(dirname "$0")/../.."
dest=${DANGAN_OCR_DIR:-.dangan/ocr}

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

# file in $dest | sha256 | wheel | path inside the wheel
files=(
    "libonnxruntime.so.1.32.0|6c1585d1bbf45b0712ea4a21b705c5fcb4ba04ff2e30f1fbf81a49faf658638f|ort|onnxruntime/capi/libonnxruntime.so.1.32.0"
    "det.orig.onnx|d2a7720d45a54257208b1e13e36a8479894cb74155a5efe29462512d42f49da9|rapid|rapidocr_onnxruntime/models/ch_PP-OCRv4_det_infer.onnx"
    "rec.orig.onnx|48fc40f24f6d2a207a2b1091d3437eb3cc3eb6b676dc3ef9c37384005483683b|rapid|rapidocr_onnxruntime/models/ch_PP-OCRv4_rec_infer.onnx"
)
# key | requirement | wheel file name | sha256 of the wheel
wheels=(
    "ort|onnxruntime==1.32.0|onnxruntime-1.32.0-cp311-cp311-manylinux_2_28_x86_64.whl|5a34fc4dfeb5a7b4a74c95dcba1e773d722abda720b474edf1b0c419dc6d163d"
    "rapid|rapidocr-onnxruntime==1.4.4|rapidocr_onnxruntime-1.4.4-py3-none-any.whl|971d7d5f223a7a808662229df1ef69893809d8457d834e6373d3854bc1782cbf"
)

# What the fused models are made with; a change to any of these remakes them.
fuse_reqs="onnx==1.23.2 onnxruntime==1.32.0 numpy==2.4.6 protobuf==7.36.2 ml_dtypes==0.7.0 flatbuffers==25.12.19 packaging==26.4 typing_extensions==4.16.0"
fuse_stamp=$(cat deploy/scripts/ocr_fuse.py <(echo "$fuse_reqs" "${files[*]}") | sha256sum | cut -d' ' -f1)

ok() { [ -f "$dest/$1" ] && echo "$2  $dest/$1" | sha256sum -c --status; }
fused() { [ -f "$dest/det.onnx" ] && [ -f "$dest/rec.onnx" ] && [ "$(cat "$dest/fused.stamp" 2>/dev/null)" = "$fuse_stamp" ]; }

# The fused models: remade when the originals or the rewrite change.
fuse() {
    fused && return 0
    say "fusing the PP-OCR models' activations (deploy/scripts/ocr_fuse.py)"
    local venv=.dangan/ocr-venv
    if ! "$venv/bin/python" -c 'import onnx, onnxruntime' >/dev/null 2>&1 ||
        [ "$(cat "$venv/reqs" 2>/dev/null)" != "$fuse_reqs" ]; then
        rm -rf "$venv"
        python3 -m venv "$venv" >/dev/null 2>&1 || {
            echo "python3 -m venv failed: install python3-venv (setup.sh does)" >&2
            exit 1
        }
        # onnxruntime's wheel is the one fetched for the runtime, where it is
        # still in .dangan/wheels.
        # shellcheck disable=SC2086 # one requirement per word
        "$venv/bin/pip" install -q --disable-pip-version-check --only-binary=:all: \
            --find-links .dangan/wheels $fuse_reqs
        echo "$fuse_reqs" >"$venv/reqs"
    fi
    rm -f "$dest/fused.stamp"
    for m in det rec; do
        "$venv/bin/python" deploy/scripts/ocr_fuse.py "$dest/$m.orig.onnx" "$dest/$m.onnx.part"
        mv "$dest/$m.onnx.part" "$dest/$m.onnx"
    done
    echo "$fuse_stamp" >"$dest/fused.stamp"
}

# The runtime and the original models, from their wheels.
fetch() {
    [ "$(uname -m)" = x86_64 ] || { echo "the pinned ONNX Runtime build is for x86_64 Linux only" >&2; exit 1; }
    if [ ! -x .venv/bin/pip ]; then
        python3 -m venv .venv >/dev/null 2>&1 || {
            echo "python3 -m venv failed: install python3-venv (setup.sh does)" >&2
            exit 1
        }
    fi
    say "fetching ONNX Runtime and the PP-OCR models into $dest"
    mkdir -p "$dest" .dangan/wheels
    for w in "${wheels[@]}"; do
        IFS='|' read -r key req file sum <<<"$w"
        path=.dangan/wheels/$file
        if ! echo "$sum  $path" | sha256sum -c --status 2>/dev/null; then
            rm -f "$path"
            .venv/bin/pip download -q --disable-pip-version-check --no-deps --only-binary=:all: \
                --python-version 3.11 --platform manylinux_2_28_x86_64 -d .dangan/wheels "$req"
            echo "$sum  $path" | sha256sum -c --status || {
                echo "$path: sha256 does not match the pinned $sum" >&2
                rm -f "$path"
                exit 1
            }
        fi
        for f in "${files[@]}"; do
            IFS='|' read -r name fsum fkey inner <<<"$f"
            [ "$fkey" = "$key" ] || continue
            .venv/bin/python - "$path" "$inner" "$dest/$name.part" <<'EOF'
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z, z.open(sys.argv[2]) as src, open(sys.argv[3], "wb") as out:
    shutil.copyfileobj(src, out)
EOF
            echo "$fsum  $dest/$name.part" | sha256sum -c --status || {
                echo "$inner in $file: sha256 does not match the pinned $fsum" >&2
                rm -f "$dest/$name.part"
                exit 1
            }
            mv "$dest/$name.part" "$dest/$name"
        done
    done
    say "PP-OCR's files fetched into $dest"
}

missing=0
for f in "${files[@]}"; do
    IFS='|' read -r name sum _ _ <<<"$f"
    ok "$name" "$sum" || missing=1
done
[ $missing -eq 0 ] || fetch
fuse
