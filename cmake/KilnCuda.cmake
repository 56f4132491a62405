# The CUDA backend: on by default where nvcc is found (the CUDA 13 toolkit in /usr/local/cuda
# on the development machines); KILN_CUDA=OFF leaves it out. Compiling it needs no GPU: CI
# builds it and the GPU tests skip there, saying why.
if(NOT DEFINED CMAKE_CUDA_COMPILER AND NOT DEFINED ENV{CUDACXX} AND EXISTS /usr/local/cuda/bin/nvcc)
  set(CMAKE_CUDA_COMPILER /usr/local/cuda/bin/nvcc)
endif()
include(CheckLanguage)
check_language(CUDA)
set(_kiln_cuda_default OFF)
if(CMAKE_CUDA_COMPILER)
  set(_kiln_cuda_default ON)
endif()
option(KILN_CUDA "Build the CUDA backend (nvcc, cuBLASLt, cuDNN 9)" ${_kiln_cuda_default})

if(KILN_CUDA)
  if(NOT CMAKE_CUDA_COMPILER)
    message(FATAL_ERROR "KILN_CUDA=ON but no CUDA compiler was found (set CMAKE_CUDA_COMPILER)")
  endif()
  # Hopper (H100/H200) machine code; other GPUs run the embedded compute_90 PTX only where
  # the driver can compile it (sm_90 and later).
  if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
    set(CMAKE_CUDA_ARCHITECTURES 90)
  endif()
  enable_language(CUDA)
  find_package(CUDAToolkit REQUIRED)
  find_library(KILN_CUDNN_LIB cudnn HINTS ${CUDAToolkit_LIBRARY_DIR} /usr/local/cuda/lib64)
  find_path(KILN_CUDNN_INCLUDE cudnn.h HINTS ${CUDAToolkit_INCLUDE_DIRS} /usr/local/cuda/include)
  if(NOT KILN_CUDNN_LIB OR NOT KILN_CUDNN_INCLUDE)
    message(FATAL_ERROR "KILN_CUDA=ON needs cuDNN 9 (libcudnn.so, cudnn.h); not found")
  endif()
  message(STATUS "kiln: CUDA backend on (nvcc ${CMAKE_CUDA_COMPILER_VERSION}, ${KILN_CUDNN_LIB})")
else()
  message(STATUS "kiln: CUDA backend off (no nvcc found, or KILN_CUDA=OFF)")
endif()
