// ldm-client (the binary) end to end against the real ldm-server on the tiny sd1 fixture model:
// images and previews written, progress in non-TTY mode, and the documented exit codes.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "tests/e2e/e2e_client.h"
#include "tests/e2e/server_process.h"
#include "tests/server/rpc/health_probe.h"
#include "tests/testing/fixtures.h"

namespace ldm::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

struct ClientRun {
  int exit_code = -1;
  std::string out;
  std::string err;
};

std::string ReadAll(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string Quote(const std::string& arg) {
  return absl::StrCat("'", absl::StrReplaceAll(arg, {{"'", "'\\''"}}), "'");
}

// Runs ldm-client with stdout and stderr redirected to files (so stderr is not a terminal).
ClientRun RunClient(const std::vector<std::string>& args) {
  static int run = 0;
  const std::filesystem::path dir = TempDir("ldm_client_binary_test_runs");
  const std::filesystem::path out = dir / absl::StrCat("out", run, ".txt");
  const std::filesystem::path err = dir / absl::StrCat("err", run, ".txt");
  ++run;
  std::string command = Quote(LDM_CLIENT_BINARY);
  for (const std::string& a : args) absl::StrAppend(&command, " ", Quote(a));
  absl::StrAppend(&command, " >", Quote(out.string()), " 2>", Quote(err.string()), " </dev/null");
  const int raw = std::system(command.c_str());
  ClientRun r;
  r.exit_code = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  r.out = ReadAll(out);
  r.err = ReadAll(err);
  return r;
}

std::string Describe(const ClientRun& r) {
  return absl::StrCat("exit ", r.exit_code, "\nstdout:\n", r.out, "\nstderr:\n", r.err);
}

class LdmClientBinaryTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    absl::StatusOr<std::filesystem::path> fixtures = FixturesDir();
    ASSERT_TRUE(fixtures.ok()) << fixtures.status();
    auto server = ServerProcess::Start(
        LDM_SERVER_BINARY,
        {"--model", "sd1=" + (*fixtures / "models" / "sd1-tiny").string(), "--model",
         "toy=" + (std::filesystem::path(LDM_SOURCE_DIR) / "models" / "toy-shapes").string(),
         "--host", "127.0.0.1", "--port", "0", "--metrics-port", "-1", "--threads", "1",
         "--log-level", "warn"});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = server->release();
    ASSERT_TRUE(server_->WaitForLine("serving", absl::Seconds(180)).ok());
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  void SetUp() override { ASSERT_NE(server_, nullptr) << "the server did not start"; }
  static std::string target() { return server_->address(); }

  static ServerProcess* server_;
};
ServerProcess* LdmClientBinaryTest::server_ = nullptr;

TEST_F(LdmClientBinaryTest, GenerateWritesImagesAndPreviewsWithPlainProgressLines) {
  const std::filesystem::path dir = TempDir("ldm_client_binary_test_generate");
  // Euler: exactly one model call per step (PNDM, the fixture's default, takes one more).
  ClientRun r = RunClient({"generate",
                           "--target",
                           target(),
                           "--prompt",
                           "a red circle",
                           "--steps",
                           "4",
                           "--sampler",
                           "euler",
                           "--n",
                           "2",
                           "--seed",
                           "7",
                           "--guidance",
                           "1",
                           "--out",
                           (dir / "img-{seed}.png").string(),
                           "--previews",
                           (dir / "previews").string(),
                           "--preview-every",
                           "2"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  for (const char* name : {"img-7.png", "img-8.png"}) {
    const std::string png = ReadAll(dir / name);
    EXPECT_EQ(png.substr(1, 3), "PNG") << name;
    EXPECT_THAT(r.out, HasSubstr((dir / name).string()));  // stdout lists what was written
  }
  EXPECT_FALSE(std::filesystem::is_empty(dir / "previews"));
  // Not a terminal: plain lines, no bar redraws.
  EXPECT_THAT(r.err, HasSubstr("queued"));
  EXPECT_THAT(r.err, HasSubstr("started on sd1"));
  EXPECT_THAT(r.err, HasSubstr("step 4/4 elapsed"));
  EXPECT_THAT(r.err, HasSubstr("done "));
  EXPECT_THAT(r.err, Not(HasSubstr("\r")));
  EXPECT_THAT(r.err, Not(HasSubstr("\033[")));
}

TEST_F(LdmClientBinaryTest, UnaryGenerateWritesTheImage) {
  const std::filesystem::path dir = TempDir("ldm_client_binary_test_unary");
  ClientRun r = RunClient({"generate", "--unary", "--target", target(), "--steps", "2",
                           "--deadline", "120", "--out", (dir / "one.png").string()});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(ReadAll(dir / "one.png").substr(1, 3), "PNG");
}

TEST_F(LdmClientBinaryTest, InvalidArgumentExitsThreeWithTheServersMessage) {
  ClientRun r = RunClient({"generate", "--target", target(), "--steps", "5000", "--request-id",
                           "cli-bad", "--out", "/nonexistent/never.png"});
  EXPECT_EQ(r.exit_code, 3) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("INVALID_ARGUMENT"));
  EXPECT_THAT(r.err, HasSubstr("request cli-bad: steps = 5000"));
}

TEST_F(LdmClientBinaryTest, UnknownModelExitsFour) {
  ClientRun r = RunClient({"generate", "--target", target(), "--model", "nope"});
  EXPECT_EQ(r.exit_code, 4) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("NOT_FOUND"));
  EXPECT_THAT(r.err, HasSubstr("sd1"));
}

TEST_F(LdmClientBinaryTest, ModelsAndHealth) {
  ClientRun models = RunClient({"models", "--target", target()});
  ASSERT_EQ(models.exit_code, 0) << Describe(models);
  EXPECT_THAT(models.out, HasSubstr("sd1 (default)"));
  EXPECT_THAT(models.out, HasSubstr("samplers:"));
  // The shipped model's map-only default is listed; a model without one shows none.
  EXPECT_THAT(models.out, HasSubstr("guidance 5 (map-only requests 1.25), eta 1\n"));
  const std::string sd1 = models.out.substr(0, models.out.find("\ntoy"));
  EXPECT_THAT(sd1, HasSubstr("defaults: steps"));
  EXPECT_THAT(sd1, ::testing::Not(HasSubstr("map-only")));
  ClientRun health = RunClient({"health", "--target", target()});
  EXPECT_EQ(health.exit_code, 0) << Describe(health);
  EXPECT_EQ(health.out, "SERVING\n");
}

TEST_F(LdmClientBinaryTest, CtrlCCancelsTheRequestAndExitsSeven) {
  const std::filesystem::path dir = TempDir("ldm_client_binary_test_interrupt");
  const std::string err_path = (dir / "err.txt").string();
  const std::string command =
      absl::StrCat("exec ", Quote(LDM_CLIENT_BINARY), " generate --target ", Quote(target()),
                   " --steps 1000 --sampler euler --out ", Quote((dir / "never.png").string()),
                   " >/dev/null 2>", Quote(err_path));
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  // Interrupt once the request runs.
  const absl::Time give_up = absl::Now() + absl::Seconds(60);
  while (ReadAll(err_path).find("step ") == std::string::npos && absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  ASSERT_EQ(kill(pid, SIGINT), 0);
  int raw = 0;
  ASSERT_EQ(waitpid(pid, &raw, 0), pid);
  ASSERT_TRUE(WIFEXITED(raw)) << "killed by signal " << WTERMSIG(raw);
  EXPECT_EQ(WEXITSTATUS(raw), 7) << ReadAll(err_path);
  EXPECT_THAT(ReadAll(err_path), HasSubstr("interrupted"));
  EXPECT_FALSE(std::filesystem::exists(dir / "never.png"));
  // The server is free again at once (the request left its batch).
  ClientRun r = RunClient({"generate", "--target", target(), "--steps", "2", "--deadline", "30",
                           "--out", (dir / "after.png").string()});
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
}

TEST(LdmClientBinaryNoServerTest, UnavailableExitsFive) {
  ClientRun r =
      RunClient({"generate", "--target", "127.0.0.1:1", "--attempts", "2", "--prompt", "x"});
  EXPECT_EQ(r.exit_code, 5) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("UNAVAILABLE"));
  ClientRun health = RunClient({"health", "--target", "127.0.0.1:1", "--attempts", "1"});
  EXPECT_EQ(health.exit_code, 5) << Describe(health);
}

TEST(LdmClientBinaryNoServerTest, UsageErrorsExitTwo) {
  EXPECT_EQ(RunClient({"generate", "--no-such-flag"}).exit_code, 2);
  EXPECT_EQ(RunClient({}).exit_code, 2);  // a subcommand is required
  EXPECT_EQ(RunClient({"generate", "--sampler", "heun"}).exit_code, 2);
  EXPECT_EQ(RunClient({"generate", "--semantic-map", "/nonexistent.png"}).exit_code, 2);
  ClientRun help = RunClient({"--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_THAT(help.out, HasSubstr("Exit codes"));
}

}  // namespace
}  // namespace ldm::testing
