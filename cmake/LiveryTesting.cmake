include(GoogleTest)
find_package(GTest REQUIRED)

# livery_add_test(<name> KIND unit|integration SOURCES ... [LIBS ...] [LABELS ...])
# Every gtest case becomes its own ctest entry carrying the kind and extra labels.
# DISCOVERY_MODE PRE_TEST: sanitized binaries are not executed at build time.
function(livery_add_test name)
  cmake_parse_arguments(arg "" "KIND;TIMEOUT" "SOURCES;LIBS;LABELS" ${ARGN})
  if(NOT arg_KIND MATCHES "^(unit|integration)$")
    message(FATAL_ERROR "livery_add_test(${name}): KIND must be unit or integration")
  endif()
  if(NOT arg_TIMEOUT)
    set(arg_TIMEOUT 120)
  endif()
  add_executable(${name} ${arg_SOURCES})
  target_link_libraries(${name} PRIVATE ${arg_LIBS} livery::options GTest::gmock GTest::gtest_main)
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/src ${PROJECT_SOURCE_DIR}/tests)
  target_compile_definitions(${name} PRIVATE
    LIVERY_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
    LIVERY_BINARY_DIR="${PROJECT_BINARY_DIR}")
  gtest_discover_tests(${name} DISCOVERY_MODE PRE_TEST PROPERTIES TIMEOUT ${arg_TIMEOUT})
  # Labels are set by a script ctest runs right after the discovered tests are defined. A label
  # list passed through gtest_discover_tests(PROPERTIES LABELS "a;b") is re-split on its way
  # into the generated set_tests_properties(), so every label after the first was lost.
  set(labels_script "${CMAKE_CURRENT_BINARY_DIR}/${name}_labels.cmake")
  file(WRITE "${labels_script}"
       "if(DEFINED ${name}_TESTS)\n"
       "  set_tests_properties(\${${name}_TESTS} PROPERTIES LABELS \"${arg_KIND};${arg_LABELS}\")\n"
       "endif()\n")
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES "${labels_script}")
endfunction()
