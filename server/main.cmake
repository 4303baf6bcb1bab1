# ldm-server: configuration (no torch), the application (torch, shared PCH) and the binary.
add_library(ldm_server_config STATIC server_config.cc)
target_compile_definitions(ldm_server_config PRIVATE LDM_VERSION="${PROJECT_VERSION}")
target_link_libraries(ldm_server_config PUBLIC ldm_common_flags absl::status absl::statusor
                                               absl::strings)

add_library(ldm_prometheus_scheduler_metrics STATIC prometheus_scheduler_metrics.cc)
target_link_libraries(ldm_prometheus_scheduler_metrics PUBLIC ldm_common_flags ldm_metrics
                                                              ldm_scheduling)

# Kept out of the PCH: its CUDA define would not match the shared precompiled header.
add_library(ldm_device_memory STATIC device_memory.cc)
target_link_libraries(ldm_device_memory PUBLIC ldm_common_flags ldm_torch)
if(TORCH_CUDA_LIBRARIES)
  target_compile_definitions(ldm_device_memory PRIVATE LDM_WITH_CUDA=1)
endif()

# No shared PCH here: spdlog's defines and -pthread (from the scheduling and gRPC targets) differ
# from the PCH's flags, so GCC would reject it anyway. server_app.h and main.cc include no torch.
add_library(ldm_server_app STATIC server_app.cc)
target_link_libraries(ldm_server_app PUBLIC ldm_common_flags ldm_torch ldm_rpc ldm_core_pipeline
  ldm_server_config ldm_prometheus_scheduler_metrics ldm_device_memory ldm_metrics
  spdlog::spdlog)

add_executable(ldm-server main.cc)
target_link_libraries(ldm-server PRIVATE ldm_server_app)
set_target_properties(ldm-server PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR})
