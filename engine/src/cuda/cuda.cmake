# The CUDA backend, included by engine/CMakeLists.txt when nvcc exists.
# Kernels (one operation per .cu file) and the host-side backend (.cpp, plain
# C++ against the CUDA runtime and cuBLAS) go into samba_engine itself, so
# every consumer of the engine gets the backend without extra link lines.
#
# Architectures: sm_90 machine code for the H200 plus compute_80 PTX, which
# the driver compiles at load time for any other GPU of compute capability
# >= 8.0 (bf16 tensor-core mma needs 8.0).
file(GLOB SAMBA_CUDA_SOURCES CONFIGURE_DEPENDS
     ${CMAKE_CURRENT_LIST_DIR}/*.cu ${CMAKE_CURRENT_LIST_DIR}/*.cpp)
target_sources(samba_engine PRIVATE ${SAMBA_CUDA_SOURCES})
set_target_properties(samba_engine PROPERTIES
  CUDA_ARCHITECTURES "90-real;80-virtual"
  CUDA_STANDARD 17
  CUDA_STANDARD_REQUIRED ON
  CUDA_RUNTIME_LIBRARY Static)
target_compile_options(samba_engine PRIVATE
  $<$<COMPILE_LANGUAGE:CUDA>:--expt-relaxed-constexpr -lineinfo -Xptxas=-warn-spills>)
# Host sources of the backend include the CUDA runtime and cuBLAS headers.
target_include_directories(samba_engine PRIVATE ${CUDAToolkit_INCLUDE_DIRS})
# cudart static (nothing to find at run time); cuBLAS shared (its static
# archive would add >100 MiB to every executable). CUDA::cublas pulls cublasLt.
target_link_libraries(samba_engine PUBLIC CUDA::cudart_static CUDA::cublas CUDA::cublasLt)
