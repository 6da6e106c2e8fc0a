#!/bin/sh
# Regenerates Sources/Recur/Training/TensorBoard/TensorBoardEvent.pb.swift from
# scripts/proto/tensorboard_event.proto. Needs protoc (Debian: protobuf-compiler) and protoc-gen-swift
# from swift-protobuf 1.39 on PATH, for example:
#   git clone -b 1.39.0 https://github.com/apple/swift-protobuf /tmp/swift-protobuf
#   (cd /tmp/swift-protobuf && swift build -c release --product protoc-gen-swift)
#   PATH=/tmp/swift-protobuf/.build/release:$PATH scripts/generate-tensorboard-proto.sh
set -eu
cd "$(dirname "$0")/.."
out=$(mktemp -d)
protoc --proto_path=scripts/proto --swift_out="$out" --swift_opt=Visibility=Internal tensorboard_event.proto
mv "$out/tensorboard_event.pb.swift" Sources/Recur/Training/TensorBoard/TensorBoardEvent.pb.swift
rmdir "$out"
