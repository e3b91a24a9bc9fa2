# The CUDA backend library (included from src/CMakeLists.txt when INFERD_CUDA_ENABLED).
# cudart is linked statically (no libcudart.so to ship); cuDNN and cuBLASLt dynamically,
# from the system's library path on the machine that runs it; NVML and nvJPEG are dlopen()ed at run time.
file(GLOB cuda_backend_srcs CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/*.cc ${CMAKE_CURRENT_LIST_DIR}/*.cu)
add_library(inferd_backend_cuda STATIC ${cuda_backend_srcs})
target_include_directories(inferd_backend_cuda PUBLIC ${CMAKE_SOURCE_DIR}/src)
target_include_directories(inferd_backend_cuda SYSTEM PUBLIC ${CUDAToolkit_INCLUDE_DIRS} ${CUDNN_INCLUDE_DIR})
target_link_libraries(inferd_backend_cuda PUBLIC inferd_backend_api
                                          CUDA::cudart_static CUDA::cublasLt ${CUDNN_LIBRARY} ${CMAKE_DL_LIBS})
# -Wpedantic and friends are host-compiler flags: pass them through nvcc for .cu files.
target_compile_options(inferd_backend_cuda PRIVATE
  $<$<COMPILE_LANGUAGE:CUDA>:--expt-relaxed-constexpr -Xcompiler=-Wall,-Wextra>)
set_target_properties(inferd_backend_cuda PROPERTIES CUDA_SEPARABLE_COMPILATION OFF POSITION_INDEPENDENT_CODE ON)
# Programs link with the C++ driver, which adds CUDA's implicit libraries (cudadevrt,
# cudart_static) by name: tell it where they are.
target_link_directories(inferd_backend_cuda INTERFACE ${CUDAToolkit_LIBRARY_DIR})
