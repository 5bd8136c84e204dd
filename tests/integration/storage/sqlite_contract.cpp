// The storage contract suite on the embedded backend (always runs).

#include "integration/storage/contract_fixture.hpp"

namespace livery::storage::contract {

INSTANTIATE_TEST_SUITE_P(Sqlite,
                         StorageContractTest,
                         ::testing::Values(BackendKind::kSqlite),
                         backendName);

}  // namespace livery::storage::contract
