#!/usr/bin/env python3
"""An independent ldm client in Python: StreamGenerate against a running server.

Usage: python_client.py --stubs DIR --address HOST:PORT
DIR holds stubs generated at test time from proto/ldm/v1/image_generation.proto with
protoc --python_out/--grpc_python_out. Also checks grpc.health.v1 and server reflection with
hand-encoded messages (Debian ships no Python health/reflection packages). Exits 0 on success.
"""
import argparse
import sys


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--stubs", required=True)
    parser.add_argument("--address", required=True)
    args = parser.parse_args()
    sys.path.insert(0, args.stubs)

    import grpc
    from ldm.v1 import image_generation_pb2 as pb
    from ldm.v1 import image_generation_pb2_grpc as pb_grpc

    channel = grpc.insecure_channel(
        args.address, options=[("grpc.max_receive_message_length", 64 << 20)])
    grpc.channel_ready_future(channel).result(timeout=30)

    # Health: HealthCheckRequest{} -> HealthCheckResponse{status: SERVING (1)} = b"\x08\x01".
    check = channel.unary_unary("/grpc.health.v1.Health/Check")
    health = check(b"", timeout=10)
    if health != b"\x08\x01":
        print("health: expected SERVING, got %r" % health, file=sys.stderr)
        return 1

    # Reflection: ServerReflectionRequest{list_services: ""} (field 7) -> the service names.
    reflect = channel.stream_stream(
        "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo")
    replies = list(reflect(iter([b"\x3a\x00"]), timeout=10))
    if not replies or b"ldm.v1.ImageGeneration" not in replies[0]:
        print("reflection does not list ldm.v1.ImageGeneration: %r" % replies, file=sys.stderr)
        return 1

    stub = pb_grpc.ImageGenerationStub(channel)
    models = stub.ListModels(pb.ListModelsRequest(), timeout=10)
    if not models.models:
        print("ListModels returned no models", file=sys.stderr)
        return 1

    request = pb.GenerateRequest(prompt="a blue square", steps=4, seed=7, num_images=2,
                                 preview_every=2, sampler=pb.EULER, guidance_scale=3.0,
                                 request_id="python-client-1")
    kinds = []
    images = {}
    done = None
    for event in stub.StreamGenerate(request, timeout=120):
        kind = event.WhichOneof("event")
        kinds.append(kind)
        if kind == "image":
            if not event.image.png.startswith(b"\x89PNG"):
                print("image %d is not a PNG" % event.image.index, file=sys.stderr)
                return 1
            images[event.image.index] = event.image.seed
        elif kind == "done":
            done = event.done

    collapsed = [k for i, k in enumerate(kinds) if i == 0 or k != "progress" or kinds[i - 1] != k]
    if collapsed != ["queued", "started", "progress", "image", "image", "done"]:
        print("unexpected event order: %s" % kinds, file=sys.stderr)
        return 1
    if images != {0: 7, 1: 8}:
        print("unexpected image seeds: %s" % images, file=sys.stderr)
        return 1
    if done.request_id != "python-client-1" or done.timings.steps != 4:
        print("unexpected done event: %s" % done, file=sys.stderr)
        return 1

    # A validation error reaches Python as INVALID_ARGUMENT naming the field.
    try:
        stub.Generate(pb.GenerateRequest(steps=5000), timeout=10)
        print("steps=5000 was accepted", file=sys.stderr)
        return 1
    except grpc.RpcError as e:
        if e.code() != grpc.StatusCode.INVALID_ARGUMENT or "steps" not in e.details():
            print("unexpected error: %s %s" % (e.code(), e.details()), file=sys.stderr)
            return 1

    print("python client ok: %d events, images %s" % (len(kinds), sorted(images)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
