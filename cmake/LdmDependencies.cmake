# Third-party dependencies, all from Debian 12's packages (see .ci/run for the list).
find_package(Torch REQUIRED)
find_package(absl REQUIRED)
find_package(nlohmann_json REQUIRED)
find_package(spdlog REQUIRED)
find_package(PNG REQUIRED)
find_package(ICU REQUIRED COMPONENTS uc i18n)
find_package(Threads REQUIRED)

# Torch's exported target carries its include dirs and compile flags (ABI define).
add_library(ldm_torch INTERFACE)
target_link_libraries(ldm_torch INTERFACE ${TORCH_LIBRARIES})
target_include_directories(ldm_torch SYSTEM INTERFACE ${TORCH_INCLUDE_DIRS})

if(LDM_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()
