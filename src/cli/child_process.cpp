#include "src/cli/child_process.hpp"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <csignal>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace kactor::detail {

namespace {

/// The fields of /proc/<pid>/stat after "pid (comm)": field 3 (state) first.
std::vector<std::string> stat_fields(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::stringstream ss;
  ss << in.rdbuf();
  const auto stat = ss.str();
  // The command name may hold spaces and ')': the state follows the last ')'.
  const auto at = stat.rfind(')');
  std::vector<std::string> out;
  if (at == std::string::npos) return out;
  std::istringstream rest(stat.substr(at + 1));
  for (std::string f; rest >> f;) out.push_back(f);
  return out;
}

}  // namespace

double process_cpu_seconds(int pid) {
  // Fields 14 and 15 (utime, stime) are at 11 and 12 counting from field 3.
  const auto f = stat_fields(pid);
  if (f.size() < 13) return std::nan("");
  const double ticks = std::stod(f[11]) + std::stod(f[12]);
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

long long process_major_faults(int pid) {
  // Field 12 (majflt) is at 9 counting from field 3.
  const auto f = stat_fields(pid);
  return f.size() < 10 ? -1 : std::stoll(f[9]);
}

child_process::child_process(const std::vector<std::string>& argv, const std::string& log_path,
                             const std::vector<std::string>& env) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_ = fork();
  if (pid_ == 0) {
    int fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
      close(fd);
    }
    for (const auto& e : env) putenv(const_cast<char*>(e.c_str()));
    execv(args[0], args.data());
    _exit(127);
  }
  if (pid_ < 0) throw std::runtime_error("fork failed");
}

child_process::~child_process() {
  if (running()) {
    ::kill(pid_, SIGKILL);
    wait(std::chrono::seconds(10));
  }
}

void child_process::signal(int sig) {
  ::kill(pid_, sig);
}

bool child_process::stopped() const {
  const auto f = stat_fields(pid_);
  return !f.empty() && f[0] == "T";
}

double child_process::cpu_seconds() const {
  return status_ != -1 ? std::nan("") : process_cpu_seconds(pid_);
}

bool child_process::running() {
  if (status_ != -1) return false;
  int st = 0;
  if (waitpid(pid_, &st, WNOHANG) == pid_) {
    status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    return false;
  }
  return true;
}

int child_process::wait(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  // waitpid has no timeout: poll the child's state until it is reaped.
  while (running() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  return running() ? -1 : status_;
}

}  // namespace kactor::detail
