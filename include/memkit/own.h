// memkit/own.h — all of memkit's ownership types: Box, Rc/Weak, Arc/ArcWeak, RefCell, Cell,
// Mutex, drop and spawn. See docs/ownership.md for the tour.
#ifndef MEMKIT_OWN_H_
#define MEMKIT_OWN_H_

#include "memkit/own/arc.h"
#include "memkit/own/box.h"
#include "memkit/own/cell.h"
#include "memkit/own/drop.h"
#include "memkit/own/mutex.h"
#include "memkit/own/option_box.h"
#include "memkit/own/rc.h"
#include "memkit/own/refcell.h"
#include "memkit/own/thread.h"

#endif  // MEMKIT_OWN_H_
