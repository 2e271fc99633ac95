// A map from int64 ids (correlation, External id) to small values, built once and then only
// looked up: one sorted vector searched by halving, where a hash map would allocate a node per
// id (a trace has tens of thousands). Of equal ids the first added wins, as with emplace.
#pragma once
#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

namespace goodput::analyze {

template <class V>
class FlatIndex {
 public:
  void reserve(std::size_t n) { items_.reserve(n); }
  void add(std::int64_t id, V v) { items_.emplace_back(id, std::move(v)); }
  // After the last add(). Ids added in increasing order (as profilers number them) sort in one
  // pass.
  void build() {
    const auto by_id = [](const Item& a, const Item& b) { return a.first < b.first; };
    if (!std::is_sorted(items_.begin(), items_.end(), by_id))
      std::stable_sort(items_.begin(), items_.end(), by_id);
  }
  const V* find(std::int64_t id) const {
    const auto it = std::lower_bound(items_.begin(), items_.end(), id,
                                     [](const Item& a, std::int64_t k) { return a.first < k; });
    return it != items_.end() && it->first == id ? &it->second : nullptr;
  }

 private:
  using Item = std::pair<std::int64_t, V>;
  std::vector<Item> items_;
};

}  // namespace goodput::analyze
