// Store-independent parts of the store module (kept apart so a PostGIS backend can share them).
#include "layers/core/store.hpp"
