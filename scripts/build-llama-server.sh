#!/bin/sh
# Builds llama.cpp's server (llama-server) once, from the llama.cpp source node-llama-cpp ships
# (node_modules/node-llama-cpp/llama/llama.cpp, checked out by `node-llama-cpp source download`), into
# node_modules/node-llama-cpp/llama/server-build/bin/llama-server: CMake, CPU only, Release, only the server target,
# offline (no web UI download, no curl/OpenSSL). breakfix's llamacpp provider runs GGUF models on it (issue #25);
# without it they run in-process through node-llama-cpp (slower on many short requests). Part of `npm run setup:llama`.
set -eu
cd "$(dirname "$0")/.."
root=node_modules/node-llama-cpp/llama
out="$root/server-build"
if [ -x "$out/bin/llama-server" ]; then
  echo "llama-server: already built ($out/bin/llama-server)"
  exit 0
fi
if [ ! -f "$root/llama.cpp/CMakeLists.txt" ]; then
  echo "llama-server: no llama.cpp source in $root/llama.cpp (run: npx node-llama-cpp source download --gpu false)" >&2
  exit 1
fi
if ! command -v cmake >/dev/null 2>&1; then
  echo "llama-server: cmake not found, not built; breakfix runs GGUF models in-process (install cmake and a C++ compiler, then npm run setup:llama)" >&2
  exit 0
fi
jobs=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)
echo "llama-server: building from $root/llama.cpp with $jobs jobs (a few minutes on 2 cores)"
cmake -S "$root/llama.cpp" -B "$out" -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF \
  -DGGML_CUDA=OFF -DGGML_VULKAN=OFF -DGGML_METAL=OFF \
  -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=ON -DLLAMA_BUILD_SERVER=ON -DLLAMA_BUILD_APP=OFF \
  -DLLAMA_BUILD_UI=OFF -DLLAMA_USE_PREBUILT_UI=OFF -DLLAMA_OPENSSL=OFF -DLLAMA_CURL=OFF >"$out.cmake.log" 2>&1 ||
  { tail -30 "$out.cmake.log" >&2; exit 1; }
cmake --build "$out" --config Release --target llama-server -j "$jobs"
test -x "$out/bin/llama-server"
echo "llama-server: built $out/bin/llama-server"
