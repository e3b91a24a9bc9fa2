// ServerCore's connection registry (http_connection.h): which connections are open, so
// that stop() can close them and a drain out of time can answer what they still owe.
#include "server/http/http_connection.h"

namespace inferd::http {

bool ServerCore::add_connection(const std::shared_ptr<Connection>& connection, uint64_t* id) {
  std::lock_guard lock(registry_mutex_);
  if (stopping_) return false;
  *id = next_id_++;
  connections_.emplace(*id, connection);
  open_connections.fetch_add(1);
  return true;
}

void ServerCore::remove_connection(uint64_t id) {
  std::lock_guard lock(registry_mutex_);
  if (connections_.erase(id) > 0) open_connections.fetch_sub(1);
}

std::vector<std::shared_ptr<Connection>> ServerCore::begin_stopping() {
  {
    std::lock_guard lock(registry_mutex_);
    stopping_ = true;  // from here add_connection() refuses: the set below can only shrink
  }
  return open_now();
}

std::vector<std::shared_ptr<Connection>> ServerCore::open_now() {
  std::lock_guard lock(registry_mutex_);
  std::vector<std::shared_ptr<Connection>> open;
  for (auto& [id, weak] : connections_)
    if (auto connection = weak.lock()) open.push_back(std::move(connection));
  return open;
}

}  // namespace inferd::http
