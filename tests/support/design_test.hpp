// design_test.hpp: one Catch2 test case per registered design, named after the design.
//
//   CP_DESIGN_TEST(counter_exact, "counter: exact at quiescence", "[stress]", CounterDesigns) {
//     TestType design(...);   // TestType is the design under test
//   }
//
// registers "counter: exact at quiescence / mutex", ".../ rwlock-std", ... so ctest and the
// failure report name the design (Catch2 v2's TEMPLATE_LIST_TEST_CASE would number them).
// Written without template lambdas: clang 14 crashes on a pack expansion inside one.
#pragma once

#include <catch2/catch.hpp>

#include <string>
#include <tuple>

namespace cp::test {

template <template <class> class Test, class D>
void register_design_test(const char* name, const char* tags, const char* file,
                          std::size_t line) {
  const std::string full = std::string(name) + " / " + std::string(D::traits.name);
  Catch::AutoReg(Catch::makeTestInvoker(&Test<D>::run), Catch::SourceLineInfo(file, line),
                 Catch::StringRef(), Catch::NameAndTags{full, tags});
}

template <template <class> class Test, class... D>
bool register_design_tests(std::tuple<D...>*, const char* name, const char* tags,
                           const char* file, std::size_t line) {
  (register_design_test<Test, D>(name, tags, file, line), ...);
  return true;
}

// True when every type of a std::tuple registry satisfies a workload's concept, e.g.
//   static_assert(all_of_v<CounterDesigns, IsCounterDesign>);
template <class Tuple, template <class> class Pred>
inline constexpr bool all_of_v = false;
template <class... D, template <class> class Pred>
inline constexpr bool all_of_v<std::tuple<D...>, Pred> = (Pred<D>::value && ...);

}  // namespace cp::test

#define CP_DESIGN_TEST(Fn, Name, Tags, Designs)                                            \
  template <class TestType>                                                                \
  struct Fn {                                                                              \
    static void run();                                                                     \
  };                                                                                       \
  [[maybe_unused]] static const bool Fn##_registered = ::cp::test::register_design_tests<Fn>( \
      static_cast<Designs*>(nullptr), Name, Tags, __FILE__, __LINE__);                     \
  template <class TestType>                                                                \
  void Fn<TestType>::run()
