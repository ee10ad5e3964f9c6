"""tributary_proto_library: C++ messages and gRPC stubs from a .proto, with the system protoc."""

def tributary_proto_library(name, src, deps = [], dep_srcs = [], visibility = None):
    """Generates <stem>.pb.{h,cc} and <stem>.grpc.pb.{h,cc} and wraps them in a cc_library.

    Args:
      name: the cc_library's name.
      src: the .proto file in this package.
      deps: tributary_proto_library targets whose .proto files `src` imports.
      dep_srcs: those imported .proto files (protoc reads them; they are not regenerated).
      visibility: the cc_library's visibility (the package's default when not given); the
        generated files stay private to the package.
    """
    stem = src[:-len(".proto")]
    outs = [
        stem + ".pb.h",
        stem + ".pb.cc",
        stem + ".grpc.pb.h",
        stem + ".grpc.pb.cc",
    ]
    native.genrule(
        name = name + "_gen",
        srcs = [src] + dep_srcs,
        outs = outs,
        cmd = ("/usr/bin/protoc -I. --cpp_out=$(GENDIR) --grpc_out=$(GENDIR) " +
               "--plugin=protoc-gen-grpc=/usr/bin/grpc_cpp_plugin $(location {})").format(src),
    )
    native.cc_library(
        name = name,
        srcs = [stem + ".pb.cc", stem + ".grpc.pb.cc"],
        hdrs = [stem + ".pb.h", stem + ".grpc.pb.h"],
        deps = deps + ["//third_party:grpc++", "//third_party:protobuf"],
        # tools/test.sh's thread-safety build skips generated code.
        tags = ["generated_code"],
        visibility = visibility,
    )
