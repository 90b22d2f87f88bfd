// bench/support/ratio.h — comparisons of a memkit benchmark against its standard-library peer.
//
// Every benchmark program links ratio.cpp, whose main() runs the benchmarks with the usual
// console output and then prints one line per declared comparison: both real times per
// iteration, the ratio, the target and whether it was met.
//
//   MEMKIT_BENCH_COMPARE("Rc clone+drop", "BM_RcCloneDrop",
//                        "std::shared_ptr copy+destroy", "BM_SharedPtrCopyDestroy",
//                        memkit::bench::Target::at_least_times_faster(5.0));
//
// A benchmark is named by its function name, plus "/args" when it has arguments ("BM_Foo",
// "BM_Foo/64"); decorations such as min_time are ignored. With --benchmark_repetitions the
// median is compared. A missed target is reported, never turned into a failing exit code:
// benchmarks inform, they do not gate CI.
#ifndef MEMKIT_BENCH_SUPPORT_RATIO_H_
#define MEMKIT_BENCH_SUPPORT_RATIO_H_

#include <string>

namespace memkit::bench {

// What "good enough" means for one comparison. Times are real time per iteration, in ns.
class Target {
 public:
  // peer / ours >= factor.
  static Target at_least_times_faster(double factor) { return {Kind::kFaster, factor}; }
  // ours <= peer * tolerance (1.05 allows 5 % noise).
  static Target no_slower(double tolerance = 1.05) { return {Kind::kNoSlower, tolerance}; }
  // ours - peer <= ns.
  static Target within_ns(double ns) { return {Kind::kWithinNs, ns}; }

  bool met(double ours_ns, double peer_ns) const;
  std::string describe() const;

 private:
  enum class Kind { kFaster, kNoSlower, kWithinNs };
  Target(Kind kind, double value) : kind_(kind), value_(value) {}

  Kind kind_;
  double value_;
};

struct Comparison {
  std::string label;
  std::string ours;
  std::string peer_label;
  std::string peer;
  Target target;
};

// Adds a comparison to the table main() prints; returns true (for static registration).
bool register_comparison(Comparison comparison);

// True when the environment variable MEMKIT_BENCH_SMOKE is set and not "0" (ctest's bench.*
// tests set it): the run only proves the program works, so workloads may shrink.
bool smoke_run();

}  // namespace memkit::bench

#define MEMKIT_BENCH_CONCAT_INNER_(a, b) a##b
#define MEMKIT_BENCH_CONCAT_(a, b) MEMKIT_BENCH_CONCAT_INNER_(a, b)

// MEMKIT_BENCH_COMPARE(label, ours, peer_label, peer, target) — at namespace scope.
#define MEMKIT_BENCH_COMPARE(label, ours, peer_label, peer, target)                             \
  [[maybe_unused]] static const bool MEMKIT_BENCH_CONCAT_(memkit_bench_compare_, __COUNTER__) = \
      ::memkit::bench::register_comparison({label, ours, peer_label, peer, target})

#endif  // MEMKIT_BENCH_SUPPORT_RATIO_H_
