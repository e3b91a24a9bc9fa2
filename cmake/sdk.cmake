# libinferd: the public API (include/inferd/) and everything under it, as one shared
# library (libinferd.so, only inferd::v1 exported) and one static archive (libinferd.a),
# both made from the objects the rest of the build compiles anyway (no second compile).
# `cmake --install build --prefix P` installs them with the headers, a CMake package
# (find_package(inferd): inferd::inferd, inferd::inferd_static) and a pkg-config file.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(INFERD_SDK_PARTS inferd_sdk inferd_builder inferd_runtime inferd_import inferd_onnx_proto inferd_caffe_proto
    inferd_passes inferd_plan inferd_backend_api inferd_backend_reference inferd_backend_cpu inferd_image inferd_ir
    inferd_core)
if(TARGET inferd_backend_cuda)
  list(APPEND INFERD_SDK_PARTS inferd_backend_cuda)
endif()
set(INFERD_SDK_OBJECTS "")
foreach(part IN LISTS INFERD_SDK_PARTS)
  list(APPEND INFERD_SDK_OBJECTS $<TARGET_OBJECTS:${part}>)
endforeach()

add_library(inferd_shared SHARED ${INFERD_SDK_OBJECTS})
# The parts again, after their objects: nothing more is pulled from them, but their
# third-party libraries (protobuf, oneDNN, libjpeg-turbo, CUDA ...) come along.
target_link_libraries(inferd_shared PRIVATE ${INFERD_SDK_PARTS})
target_include_directories(inferd_shared INTERFACE $<BUILD_INTERFACE:${CMAKE_SOURCE_DIR}/include>
                                                   $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
set(INFERD_EXPORTS ${CMAKE_SOURCE_DIR}/cmake/libinferd.map)
target_link_options(inferd_shared PRIVATE -Wl,--version-script=${INFERD_EXPORTS})
if(NOT INFERD_SANITIZE AND NOT INFERD_FUZZ)  # sanitizer runtimes resolve at load time
  target_link_options(inferd_shared PRIVATE -Wl,--no-undefined)
endif()
set_target_properties(inferd_shared PROPERTIES
  OUTPUT_NAME inferd VERSION ${PROJECT_VERSION} SOVERSION ${PROJECT_VERSION_MAJOR}
  LINK_DEPENDS ${INFERD_EXPORTS}
  # Keeps non-system library folders (CUDA's lib64) in the installed library's RUNPATH.
  INSTALL_RPATH_USE_LINK_PATH ON)

add_library(inferd_static STATIC ${INFERD_SDK_OBJECTS})
set_target_properties(inferd_static PROPERTIES OUTPUT_NAME inferd)

# What a program linking libinferd.a must link as well: the third-party libraries, as
# absolute paths found here (the installed package is for this machine's layout).
set(INFERD_STATIC_DEPS ${Protobuf_LIBRARIES} ${DNNL_LIBRARY} ${OpenMP_CXX_LIBRARIES} ${TURBOJPEG_LINK_LIBRARIES}
    ${SPNG_LINK_LIBRARIES})
if(TARGET inferd_backend_cuda)
  list(APPEND INFERD_STATIC_DEPS ${CUDA_cudart_static_LIBRARY} ${CUDA_cublasLt_LIBRARY} ${CUDNN_LIBRARY}
       ${CMAKE_DL_LIBS} rt)
endif()
list(APPEND INFERD_STATIC_DEPS Threads::Threads)

install(DIRECTORY ${CMAKE_SOURCE_DIR}/include/inferd DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS inferd_shared EXPORT inferdTargets LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(TARGETS inferd_static ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(EXPORT inferdTargets NAMESPACE inferd:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/inferd)
set_target_properties(inferd_shared PROPERTIES EXPORT_NAME inferd)
configure_package_config_file(${CMAKE_SOURCE_DIR}/cmake/inferdConfig.cmake.in
                              ${CMAKE_BINARY_DIR}/sdk/inferdConfig.cmake
                              INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/inferd)
write_basic_package_version_file(${CMAKE_BINARY_DIR}/sdk/inferdConfigVersion.cmake
                                 COMPATIBILITY SameMajorVersion)
# The .pc file finds the prefix from where it lies (${pcfiledir}): installs anywhere.
file(RELATIVE_PATH INFERD_PC_TO_PREFIX /p/${CMAKE_INSTALL_LIBDIR}/pkgconfig /p)
configure_file(${CMAKE_SOURCE_DIR}/cmake/inferd.pc.in ${CMAKE_BINARY_DIR}/sdk/inferd.pc @ONLY)
install(FILES ${CMAKE_BINARY_DIR}/sdk/inferdConfig.cmake ${CMAKE_BINARY_DIR}/sdk/inferdConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/inferd)
install(FILES ${CMAKE_BINARY_DIR}/sdk/inferd.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
