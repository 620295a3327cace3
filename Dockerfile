# rcic on a CUDA machine: the same Makefile, release binaries, the GPU wheels.
#
#   docker build -t rcic .
#   docker run --rm --init --gpus all -v /path/to/rxrx1:/data:ro -v rcic-store:/store rcic \
#     make submission DATA=/data STORE=/store PRESET=winner SEEDS=0,1 OUT=/store/submission.csv
#
# Without a command the image runs `make submission` on the demo preset's
# synthetic data (generated inside the container). docs/scale-out.md has the
# GPU recipe and the Slurm scripts.
#
# The base matches what the pinned wheels were built for: torch 2.11.0's
# default Linux wheel pulls CUDA 13.0 (cuda-toolkit 13.0.2) and cuDNN 9
# (nvidia-cudnn-cu13), and onnxruntime-gpu 1.31.1 is a CUDA 13 build. libtorch
# finds its CUDA libraries inside the wheels (rpath); ONNX Runtime's CUDA
# provider has no rpath and finds them on the system path, which this base
# provides. The host needs an NVIDIA driver that supports CUDA 13.0 and the
# NVIDIA Container Toolkit (`--gpus`).
FROM nvidia/cuda:13.0.2-cudnn-runtime-ubuntu24.04

SHELL ["/bin/bash", "-o", "pipefail", "-c"]

# Rust: stable from rustup (the workspace needs 1.88 or newer).
ARG RUST_TOOLCHAIN=stable

ENV DEBIAN_FRONTEND=noninteractive \
    RUSTUP_HOME=/opt/rustup \
    CARGO_HOME=/opt/cargo \
    PATH=/opt/cargo/bin:$PATH \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    CARGO_TARGET_DIR=/opt/rcic/target \
    PROFILE=release \
    REQUIREMENTS=requirements-gpu.txt

# Compilers for the crates' C/C++ parts (torch-sys, zstd, ring), python3 with
# venv for the wheels, make for the Makefile. Ubuntu's own versions.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        build-essential ca-certificates curl make pkg-config python3 python3-venv \
    && rm -rf /var/lib/apt/lists/*

RUN curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs \
        | sh -s -- -y --no-modify-path --profile minimal --default-toolchain "${RUST_TOOLCHAIN}" \
    && rustc --version \
    && cargo --version

WORKDIR /opt/rcic

# The wheels first, in their own layer: a source change does not reinstall
# them. `make deps` creates .venv here with REQUIREMENTS (set above).
COPY Makefile requirements-gpu.txt ./
RUN make deps

# The workspace, built in release mode (binaries in $CARGO_TARGET_DIR/release,
# libtorch's folder baked in as an rpath, the venv's ONNX Runtime as the
# fallback after ORT_DYLIB_PATH).
COPY . .
RUN make build

# From here on `make` uses the binaries as built: no cargo run and no pip
# check when a pipeline goal starts. Pass NOBUILD= to rebuild after changing
# the sources.
ENV NOBUILD=1

CMD ["make", "submission", "PROFILE=release"]
