// Replays fuzz inputs through a libFuzzer entry point without libFuzzer: linked with
// fuzz_core.cpp into unit_fuzz_core_replay, a regression test over the corpus committed in
// tests/fuzz/seeds/core/ (a crash, a failed invariant or an ASan/UBSan report fails it).
//
//   unit_fuzz_core_replay DIR|FILE...   every regular file of each DIR (sorted), and each FILE
//
// Exits 1 when no input was found (a replay of nothing would pass silently).
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv);
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

std::vector<std::filesystem::path> inputs(int argc, char** argv) {
  std::vector<std::filesystem::path> out;
  for (int i = 1; i < argc; ++i) {
    std::filesystem::path p(argv[i]);
    if (std::filesystem::is_directory(p)) {
      std::vector<std::filesystem::path> dir;
      for (const auto& e : std::filesystem::directory_iterator(p)) {
        if (e.is_regular_file()) dir.push_back(e.path());
      }
      std::sort(dir.begin(), dir.end());
      out.insert(out.end(), dir.begin(), dir.end());
    } else if (std::filesystem::is_regular_file(p)) {
      out.push_back(p);
    } else {
      std::fprintf(stderr, "replay: no such file or directory: %s\n", argv[i]);
    }
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::filesystem::path> files = inputs(argc, argv);
  if (files.empty()) {
    std::fprintf(stderr, "replay: no inputs (usage: %s DIR|FILE...)\n", argv[0]);
    return 1;
  }
  LLVMFuzzerInitialize(&argc, &argv);
  size_t bytes = 0;
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    std::vector<uint8_t> data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    LLVMFuzzerTestOneInput(data.data(), data.size());
    bytes += data.size();
  }
  std::printf("replay: %zu inputs (%zu bytes) passed\n", files.size(), bytes);
  return 0;
}
