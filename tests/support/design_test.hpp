// design_test.hpp: one Catch2 test case per registered design, named after the design.
//
//   CP_DESIGN_TEST(counter_exact, "counter: exact at quiescence", "[stress]", CounterDesigns) {
//     TestType design(...);   // TestType is the design under test
//   }
//
// registers "counter: exact at quiescence / mutex-coarse", ".../ rwlock-std", ... so ctest
// and the failure report name the design (Catch2 v2's TEMPLATE_LIST_TEST_CASE would number them).
#pragma once

#include <catch2/catch.hpp>

#include <string>
#include <tuple>

namespace cp::test {

template <class Tuple, class MakeInvoker>
bool register_for_each(const char* name, const char* tags, const char* file, std::size_t line,
                       MakeInvoker make_invoker) {
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    (
        [&] {
          using D = std::tuple_element_t<I, Tuple>;
          const std::string full = std::string(name) + " / " + std::string(D::traits.name);
          Catch::AutoReg(Catch::makeTestInvoker(make_invoker.template operator()<D>()),
                         Catch::SourceLineInfo(file, line), Catch::StringRef(),
                         Catch::NameAndTags{full, tags});
        }(),
        ...);
  }(std::make_index_sequence<std::tuple_size_v<Tuple>>{});
  return true;
}

}  // namespace cp::test

#define CP_DESIGN_TEST(Fn, Name, Tags, Designs)                                              \
  template <class TestType>                                                                  \
  static void Fn();                                                                          \
  [[maybe_unused]] static const bool Fn##_registered = ::cp::test::register_for_each<Designs>( \
      Name, Tags, __FILE__, __LINE__, []<class D>() { return &Fn<D>; });                     \
  template <class TestType>                                                                  \
  static void Fn()
