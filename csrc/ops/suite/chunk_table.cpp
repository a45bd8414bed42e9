// See chunk_table.h, Note [Chunk table].
#include "ops/suite/chunk_table.h"

#include <algorithm>

#include "core/error.h"

namespace vt::suite {

ChunkTable chunk_table(const std::vector<const TensorList*>& lists, int64_t chunk) {
  VT_CHECK_VALUE(lists.size() >= 1 && lists.size() <= size_t(kChunkLists), "chunk_table: expected 1 to ",
                 kChunkLists, " tensor lists, got ", lists.size());
  VT_CHECK_VALUE(chunk > 0, "chunk_table: expected a positive chunk size, got ", chunk);
  const TensorList& params = *lists.front();
  for (const TensorList* l : lists)
    VT_CHECK_VALUE(l->empty() || l->size() == params.size(), "chunk_table: expected lists as long as the ",
                   params.size(), " params (or empty), got one of ", l->size());
  ChunkTable t;
  for (size_t i = 0; i < params.size(); ++i) {
    const int64_t n = params[i].numel();
    for (int64_t start = 0; start < n; start += chunk) {
      int slot = 0;
      for (const TensorList* l : lists) {
        int64_t address = 0;
        if (!l->empty()) {
          const Tensor& x = (*l)[i];
          address = reinterpret_cast<int64_t>(x.data_ptr()) + start * itemsize(x.dtype());
          t.aligned &= address % 16 == 0;
        }
        t.rows.push_back(address);
        ++slot;
      }
      for (; slot < kChunkRowSlots - 1; ++slot) t.rows.push_back(0);
      t.rows.push_back(std::min(chunk, n - start));
      ++t.n_rows;
    }
  }
  return t;
}

}  // namespace vt::suite
