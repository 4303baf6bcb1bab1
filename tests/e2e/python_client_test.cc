// An independent client in another language: Python stubs generated at test time with protoc
// and grpc_python_plugin, running tests/e2e/python_client.py (StreamGenerate, health,
// reflection, an error) against the real ldm-server binary. Anything missing fails the test.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "tests/e2e/server_process.h"
#include "tests/testing/fixtures.h"

namespace ldm::testing {
namespace {

int Shell(const std::string& command) {
  const int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(PythonClientTest, PythonStubsGeneratedAtTestTimeCompleteAStreamGenerate) {
  ASSERT_EQ(Shell("command -v protoc >/dev/null"), 0) << "protoc missing (protobuf-compiler)";
  ASSERT_EQ(Shell("test -x /usr/bin/grpc_python_plugin"), 0)
      << "grpc_python_plugin missing (protobuf-compiler-grpc)";
  const std::string python = LDM_PYTHON3;
  ASSERT_EQ(Shell(python + " -c 'import grpc, google.protobuf'"), 0)
      << python << ": python3-grpcio / python3-protobuf missing";

  const std::filesystem::path stubs =
      std::filesystem::temp_directory_path() / absl::StrCat("ldm_py_stubs_", ::getpid());
  std::filesystem::create_directories(stubs);
  const std::string source = LDM_SOURCE_DIR;
  ASSERT_EQ(Shell(absl::StrCat("protoc --proto_path=", source, "/proto --python_out=",
                               stubs.string(), " --grpc_python_out=", stubs.string(),
                               " --plugin=protoc-gen-grpc_python=/usr/bin/grpc_python_plugin ",
                               source, "/proto/ldm/v1/image_generation.proto")),
            0);
  ASSERT_TRUE(std::filesystem::exists(stubs / "ldm/v1/image_generation_pb2_grpc.py"));

  absl::StatusOr<std::filesystem::path> fixtures = FixturesDir();
  ASSERT_TRUE(fixtures.ok()) << fixtures.status();
  auto server = ServerProcess::Start(
      LDM_SERVER_BINARY, {"--model", (*fixtures / "models" / "sd1-tiny").string(), "--host",
                          "127.0.0.1", "--port", "0", "--metrics-port", "-1", "--threads", "1"});
  ASSERT_TRUE(server.ok()) << server.status();
  ASSERT_TRUE((*server)->WaitForLine("serving", absl::Seconds(120)).ok());

  EXPECT_EQ(Shell(absl::StrCat(python, " ", source, "/tests/e2e/python_client.py --stubs ",
                               stubs.string(), " --address ", (*server)->address())),
            0);
  (*server)->Signal(SIGTERM);
  absl::StatusOr<int> exit_code = (*server)->Wait(absl::Seconds(60));
  ASSERT_TRUE(exit_code.ok()) << exit_code.status();
  EXPECT_EQ(*exit_code, 0);
  std::filesystem::remove_all(stubs);
}

}  // namespace
}  // namespace ldm::testing
