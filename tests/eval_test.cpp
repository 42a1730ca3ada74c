// Metrics against scikit-learn's own numbers for a fixed set of predictions (tests/data/metrics, made with
// sklearn's classification_report, confusion_matrix and top_k_accuracy_score).
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "eval/metrics.h"
#include "test_support.h"

namespace tunelens {
namespace {

struct Fixture {
  nlohmann::json json;
  std::vector<std::string> classes;
  std::vector<std::size_t> truth;
  std::vector<float> probabilities;
};

Fixture load_fixture() {
  Fixture f;
  std::ifstream(testing::data_path("metrics/sklearn_report.json")) >> f.json;
  f.classes = f.json["classes"].get<std::vector<std::string>>();
  f.truth = f.json["y_true"].get<std::vector<std::size_t>>();
  for (const auto& row : f.json["probs"])
    for (const auto& value : row) f.probabilities.push_back(value.get<float>());
  return f;
}

TEST(ClassificationReport, ReproducesScikitLearn) {
  const Fixture f = load_fixture();
  const auto& expected = f.json["expected"];
  const ClassificationReport report = classification_report(f.truth, f.probabilities, f.classes);
  EXPECT_NEAR(report.accuracy, expected["accuracy"].get<double>(), 1e-12);
  ASSERT_EQ(report.top_k.size(), 1u);
  EXPECT_EQ(report.top_k[0].first, 3);
  EXPECT_NEAR(report.top_k[0].second, expected["top3_accuracy"].get<double>(), 1e-12);
  const auto& sk = expected["report"];
  for (std::size_t k = 0; k < f.classes.size(); ++k) {
    const auto& row = sk[f.classes[k]];
    EXPECT_NEAR(report.per_class[k].precision, row["precision"].get<double>(), 1e-4) << f.classes[k];
    EXPECT_NEAR(report.per_class[k].recall, row["recall"].get<double>(), 1e-4) << f.classes[k];
    EXPECT_NEAR(report.per_class[k].f1, row["f1-score"].get<double>(), 1e-4) << f.classes[k];
    EXPECT_EQ(report.per_class[k].support, row["support"].get<std::size_t>()) << f.classes[k];
  }
  for (const auto& [name, ours] : {std::pair{"macro avg", report.macro}, std::pair{"weighted avg", report.weighted}}) {
    EXPECT_NEAR(ours.precision, sk[name]["precision"].get<double>(), 1e-4) << name;
    EXPECT_NEAR(ours.recall, sk[name]["recall"].get<double>(), 1e-4) << name;
    EXPECT_NEAR(ours.f1, sk[name]["f1-score"].get<double>(), 1e-4) << name;
    EXPECT_EQ(ours.support, sk[name]["support"].get<std::size_t>()) << name;
  }
  EXPECT_EQ(report.confusion, expected["confusion_matrix"].get<std::vector<std::vector<std::size_t>>>());
  // The text layout is sklearn's, line for line, followed by our top-k line.
  const std::string text = report.text();
  const std::string sklearn_text = f.json["expected_report_text"].get<std::string>();
  EXPECT_EQ(text.substr(0, sklearn_text.size()), sklearn_text) << text;
  EXPECT_NE(text.find("top-3 acc"), std::string::npos);
}

TEST(ClassificationReport, ErrorAnalysisFollowsTheConfusionMatrix) {
  const Fixture f = load_fixture();
  const ClassificationReport report = classification_report(f.truth, f.probabilities, f.classes);
  for (std::size_t k = 0; k < f.classes.size(); ++k) {
    std::size_t missed = 0;
    for (const auto& e : report.errors_to[k]) {
      EXPECT_EQ(e.count, report.confusion[k][e.other]);
      missed += e.count;
    }
    EXPECT_EQ(missed, report.per_class[k].support - report.confusion[k][k]);
    for (std::size_t i = 1; i < report.errors_to[k].size(); ++i)
      EXPECT_GE(report.errors_to[k][i - 1].count, report.errors_to[k][i].count);
    for (const auto& e : report.mistaken_for[k]) EXPECT_EQ(e.count, report.confusion[e.other][k]);
  }
  ASSERT_EQ(report.confident_mistakes.size(), 10u);
  for (const auto& m : report.confident_mistakes) {
    EXPECT_NE(m.truth, m.predicted);
    EXPECT_EQ(m.truth, f.truth[m.example]);
  }
  for (std::size_t i = 1; i < report.confident_mistakes.size(); ++i)
    EXPECT_GE(report.confident_mistakes[i - 1].confidence, report.confident_mistakes[i].confidence);
}

TEST(ClassificationReport, JsonAndCsvCarryTheNumbers) {
  const Fixture f = load_fixture();
  const ClassificationReport report = classification_report(f.truth, f.probabilities, f.classes);
  const auto json = nlohmann::json::parse(report.json());
  EXPECT_DOUBLE_EQ(json["accuracy"].get<double>(), report.accuracy);
  EXPECT_DOUBLE_EQ(json["report"]["Rock"]["recall"].get<double>(), report.per_class[7].recall);
  EXPECT_EQ(json["confusion_matrix"][0][0].get<std::size_t>(), report.confusion[0][0]);
  const std::string csv = report.csv();
  EXPECT_EQ(csv.substr(0, csv.find('\n')), "class,precision,recall,f1,support");
  EXPECT_NE(csv.find("Electronic,0.478261,0.478261,0.478261,23"), std::string::npos) << csv;
  EXPECT_NE(report.confusion_csv().find("Electronic,11,1,4,2,0,1,1,3"), std::string::npos);
}

TEST(ClassificationReport, EdgeCases) {
  // A class never predicted: precision 0 (scikit-learn's zero_division default); ties go to the first class.
  const std::vector<std::size_t> truth = {0, 1, 1};
  const std::vector<float> probabilities = {0.5f, 0.5f, 0.9f, 0.1f, 0.2f, 0.8f};
  const ClassificationReport report = classification_report(truth, probabilities, {"a,b", "c"});
  EXPECT_EQ(report.confusion, (std::vector<std::vector<std::size_t>>{{1, 0}, {1, 1}}));
  EXPECT_NEAR(report.per_class[0].precision, 0.5, 1e-12);
  EXPECT_NE(report.csv().find("\"a,b\""), std::string::npos);
  EXPECT_THROW(classification_report(truth, std::vector<float>(5), {"a", "b"}), MetricsError);
  EXPECT_THROW(classification_report(std::vector<std::size_t>{2}, std::vector<float>(2), {"a", "b"}), MetricsError);
  EXPECT_THROW(classification_report({}, {}, {"a"}), MetricsError);
}

}  // namespace
}  // namespace tunelens
