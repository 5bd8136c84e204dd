// The storage contract suite on PostgreSQL (needs-postgres: LIVERY_TEST_PG_URL).

#include "integration/storage/contract_fixture.hpp"

namespace livery::storage::contract {

INSTANTIATE_TEST_SUITE_P(Postgres,
                         StorageContractTest,
                         ::testing::Values(BackendKind::kPostgres),
                         backendName);

}  // namespace livery::storage::contract
