/**
 * @file
 * tern-config-doc: brings the generated key reference of docs/config.md up to
 * date from the key table (tern/config/schema.hpp). Not installed.
 *
 *   tern-config-doc FILE          rewrite FILE's generated blocks in place
 *   tern-config-doc --check FILE  exit 1 (and say so) if they are not up to date
 *   tern-config-doc --table PATH  print the table of one section ("" is the top level)
 */
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

#include "tern/config/schema.hpp"

namespace {

int usage() {
  std::fprintf(stderr,
               "usage: tern-config-doc [--check] FILE\n"
               "       tern-config-doc --table PATH\n");
  return 2;
}

bool read_file(const std::string& path, std::string& text) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream s;
  s << in.rdbuf();
  text = s.str();
  return !in.bad();
}

int print_table(const std::string& path) {
  const auto table = tern::config::schema::reference_table(path);
  if (!table) {
    std::fprintf(stderr, "tern-config-doc: no section '%s'\n", path.c_str());
    return 1;
  }
  std::fputs(table->c_str(), stdout);
  return 0;
}

int update(const std::string& path, bool check) {
  std::string text;
  if (!read_file(path, text)) {
    std::fprintf(stderr, "tern-config-doc: cannot read %s\n", path.c_str());
    return 1;
  }
  std::string error;
  const auto updated = tern::config::schema::update_reference(text, &error);
  if (!updated) {
    std::fprintf(stderr, "tern-config-doc: %s: %s\n", path.c_str(), error.c_str());
    return 1;
  }
  if (*updated == text) return 0;
  if (check) {
    std::fprintf(stderr, "tern-config-doc: %s is not up to date; run tern-config-doc %s\n", path.c_str(),
                 path.c_str());
    return 1;
  }
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << *updated;
  return out ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 3 && std::string_view(argv[1]) == "--table") return print_table(argv[2]);
  if (argc == 3 && std::string_view(argv[1]) == "--check") return update(argv[2], true);
  if (argc == 2 && argv[1][0] != '-') return update(argv[1], false);
  return usage();
}
