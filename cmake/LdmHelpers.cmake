# Shared compile settings and the precompiled-header scheme.
#
# Every torch-using target reuses one precompiled header (ldm_pch). GCC only accepts a PCH built
# with the same definitions and flags, so all such targets get exactly the flags in
# ldm_common_flags and nothing target-specific that changes preprocessing.

add_library(ldm_common_flags INTERFACE)
target_compile_options(ldm_common_flags INTERFACE -fPIC -Wall -Wextra -Wno-unused-parameter
                                                  -Wno-missing-field-initializers)
target_include_directories(ldm_common_flags INTERFACE ${PROJECT_SOURCE_DIR} ${PROJECT_BINARY_DIR})
target_compile_definitions(ldm_common_flags INTERFACE LDM_SOURCE_DIR="${PROJECT_SOURCE_DIR}")

file(WRITE ${PROJECT_BINARY_DIR}/ldm_pch_dummy.cc "// precompiled header carrier\n")
add_library(ldm_pch OBJECT ${PROJECT_BINARY_DIR}/ldm_pch_dummy.cc)
target_link_libraries(ldm_pch PUBLIC ldm_common_flags ldm_torch absl::status absl::statusor
                                     absl::strings nlohmann_json::nlohmann_json)
if(LDM_USE_PCH)
  target_precompile_headers(ldm_pch PRIVATE ${PROJECT_SOURCE_DIR}/core/common/pch.h)
endif()

# ldm_use_pch(<target>): compile <target> with the shared torch PCH.
function(ldm_use_pch target)
  if(LDM_USE_PCH)
    target_precompile_headers(${target} REUSE_FROM ldm_pch)
  endif()
endfunction()

# ldm_use_unity(<target>): compile the target's sources in batches (unity build). Every torch TU
# pays for loading the ~700 MB precompiled header; batching sources cuts a clean build on 2 cores
# several-fold. Sources must therefore not clash in their anonymous namespaces.
option(LDM_UNITY_BUILD "Batch torch-using sources into unity translation units" ON)
function(ldm_use_unity target)
  if(LDM_UNITY_BUILD)
    set_target_properties(${target} PROPERTIES UNITY_BUILD ON UNITY_BUILD_BATCH_SIZE 16)
  endif()
endfunction()

# ldm_library(<name> SOURCES ... DEPS ...): a static library of torch-using code.
function(ldm_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  target_link_libraries(${name} PUBLIC ldm_common_flags ldm_torch absl::status absl::statusor
                                       absl::strings nlohmann_json::nlohmann_json ${ARG_DEPS})
  ldm_use_pch(${name})
  ldm_use_unity(${name})
endfunction()

# ldm_test(<name> SOURCES ... DEPS ... LABELS ...): a GoogleTest executable registered with CTest.
function(ldm_test name)
  cmake_parse_arguments(ARG "" "TIMEOUT" "SOURCES;DEPS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ldm_common_flags ldm_torch ldm_testing GTest::gtest
                                        GTest::gmock GTest::gtest_main ${ARG_DEPS})
  ldm_use_pch(${name})
  ldm_use_unity(${name})
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 600)
  endif()
  add_test(NAME ${name} COMMAND ${name})
  set_tests_properties(${name} PROPERTIES LABELS "${ARG_LABELS}" TIMEOUT ${ARG_TIMEOUT}
                                          ENVIRONMENT "OMP_NUM_THREADS=1")
endfunction()
