// tenantctl entry point (placeholder until the CLI lands).
#include <cstdio>
int main() { std::puts("tenantctl " TENANTCTL_VERSION); return 0; }
