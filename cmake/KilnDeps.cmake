# Every dependency comes from Debian packages installed by scripts/setup.sh.
find_package(Protobuf REQUIRED)
find_package(nlohmann_json REQUIRED)
find_package(CLI11 CONFIG QUIET)
find_package(Threads REQUIRED)

find_library(ONNX_LIB onnx REQUIRED)
find_library(ONNX_PROTO_LIB onnx_proto REQUIRED)
find_path(ONNX_INCLUDE_DIR onnx/onnx_pb.h REQUIRED)

# Debian's libonnx-dev is built with ONNX_ML and the plain `onnx` namespace.
add_library(kiln_onnx_deps INTERFACE)
target_compile_definitions(kiln_onnx_deps INTERFACE ONNX_ML=1 ONNX_NAMESPACE=onnx)
target_include_directories(kiln_onnx_deps SYSTEM INTERFACE ${ONNX_INCLUDE_DIR} ${Protobuf_INCLUDE_DIRS})
target_link_libraries(kiln_onnx_deps INTERFACE ${ONNX_LIB} ${ONNX_PROTO_LIB} ${Protobuf_LIBRARIES})

# CPU backend: oneDNN (libdnnl-dev, built on OpenMP) for convolution/matmul/pooling primitives,
# and OpenMP as the one intra-op thread pool that oneDNN and kiln's own kernels share.
# Found by hand, not through dnnl-config.cmake: Debian builds oneDNN with its OpenCL GPU runtime,
# and that config then requires the OpenCL headers (a mere Recommends of libdnnl-dev) although
# kiln only uses the CPU engine.
find_library(DNNL_LIB dnnl REQUIRED)
find_path(DNNL_INCLUDE_DIR oneapi/dnnl/dnnl.hpp REQUIRED)
add_library(DNNL::dnnl INTERFACE IMPORTED)
target_include_directories(DNNL::dnnl SYSTEM INTERFACE ${DNNL_INCLUDE_DIR})
target_link_libraries(DNNL::dnnl INTERFACE ${DNNL_LIB})
find_package(OpenMP REQUIRED)
