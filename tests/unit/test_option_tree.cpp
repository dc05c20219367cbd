#include <gtest/gtest.h>

#include "config/option_tree.h"

using namespace mtastream;
using namespace mtastream::config;

TEST(OptionTree, EnvNameOfCommandOption) {
  EXPECT_EQ(option_env_name("consume", "lake-dir"), "MTASTREAM_CONSUME_LAKE_DIR");
  EXPECT_EQ(option_env_name("topic.create", "partitions"), "MTASTREAM_TOPIC_CREATE_PARTITIONS");
}

TEST(OptionTree, DescribesOptionsChecksAndLeavesHiddenOut) {
  CLI::App app{"root", "tool"};
  CLI::App* cmd = app.add_subcommand("run", "run it");
  cmd->footer("Examples:\n  tool run -f json\n");
  std::string format, secret;
  std::vector<std::string> files;
  int count = 0;
  bool quiet = false;
  cmd->add_option("-f,--format", format, "output \"format\"")->type_name("FORMAT")->check(CLI::IsMember({"csv", "json"}));
  cmd->add_option("-c,--count", count, "how many")->check(CLI::Range(1, 9));
  cmd->add_flag("-q,--quiet", quiet, "quiet");
  cmd->add_option("--secret", secret, "hidden")->group("");
  cmd->add_option("files", files, "input files")->type_name("FILE");
  app.add_subcommand("internal", "hidden command")->group("");

  std::string json = option_tree_json(app, "tool 1.0");
  EXPECT_NE(json.find(R"("version":"tool 1.0")"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("path":"run")"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("type":"FORMAT","takes_value":true)"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("allowed":["csv","json"])"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("checks":["INT in [1 - 9]"])"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("env":"MTASTREAM_RUN_FORMAT")"), std::string::npos) << json;
  EXPECT_NE(json.find(R"(output \"format\")"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("long":["quiet"],"name":"-q,--quiet","type":"","takes_value":false)"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("name":"files","type":"FILE","takes_value":true,"repeatable":true)"), std::string::npos) << json;
  EXPECT_NE(json.find(R"(Examples:\n  tool run -f json\n)"), std::string::npos) << json;
  EXPECT_EQ(json.find("secret"), std::string::npos) << json;
  EXPECT_EQ(json.find("internal"), std::string::npos) << json;
}
