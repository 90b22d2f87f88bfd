// tree_weak — a tree with Rc children and Weak parents (the Rust Book, 15.6), and the
// strong-cycle version that leaks.
//
// A parent owns its children: when the parent goes, so do they. A child only needs to find its
// parent, not keep it alive, so it holds a Weak. If the child held an Rc instead, parent and child
// would own each other, neither count could reach zero, and both would leak.
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "memkit/own/drop.h"
#include "memkit/own/rc.h"
#include "memkit/own/refcell.h"

using memkit::Rc;
using memkit::RefCell;
using memkit::Weak;

int live_nodes = 0;  // nodes constructed and not yet destroyed, of both kinds below

struct Node {
  int value;
  RefCell<Weak<Node>> parent;               // finds the parent; does not keep it alive
  RefCell<std::vector<Rc<Node>>> children;  // owns the children

  explicit Node(int v) : value(v) { ++live_nodes; }
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;
  ~Node() {
    --live_nodes;
    std::cout << "  (node " << value << " destroyed)\n";
  }
};

std::string parent_of(const Node& node) {
  std::optional<Rc<Node>> parent = node.parent.borrow()->upgrade();
  return parent ? std::string("node ").append(std::to_string((*parent)->value)) : "none";
}

void counts(const char* name, const Rc<Node>& node) {
  std::cout << name << " strong = " << node.strong_count() << ", weak = " << node.weak_count()
            << "\n";
}

// The mistake: a child that owns its parent.
struct CyclicNode {
  int value;
  RefCell<std::optional<Rc<CyclicNode>>> parent;  // an Rc: keeps the parent alive
  RefCell<std::vector<Rc<CyclicNode>>> children;

  explicit CyclicNode(int v) : value(v) { ++live_nodes; }
  CyclicNode(const CyclicNode&) = delete;
  CyclicNode& operator=(const CyclicNode&) = delete;
  ~CyclicNode() {
    --live_nodes;
    std::cout << "  (node " << value << " destroyed)\n";
  }
};

int main() {
  std::cout << "== children are Rc, the parent is Weak ==\n";
  {
    auto leaf = Rc<Node>::make(3);
    counts("leaf", leaf);
    std::cout << "leaf parent = " << parent_of(*leaf) << "\n";
    {
      auto branch = Rc<Node>::make(5);
      branch->children.borrow_mut()->push_back(leaf);
      *leaf->parent.borrow_mut() = branch.downgrade();
      std::cout << "leaf parent = " << parent_of(*leaf) << "\n";
      counts("branch", branch);  // weak = 1: the leaf's parent handle
      counts("leaf", leaf);      // strong = 2: `leaf` and the branch's children
    }  // `branch` was the branch's only owner: it goes, and drops its handle to the leaf
    std::cout << "leaf parent = " << parent_of(*leaf) << " (the Weak no longer upgrades)\n";
    counts("leaf", leaf);
    std::cout << "live nodes: " << live_nodes << " (the leaf)\n";
  }
  std::cout << "live nodes: " << live_nodes << " \u2014 nothing leaked\n";

  std::cout << "\n== the parent held as Rc: a strong cycle ==\n";
  Weak<CyclicNode> leaf_handle;  // a way back to the nodes once every Rc variable is gone
  {
    auto leaf = Rc<CyclicNode>::make(3);
    auto branch = Rc<CyclicNode>::make(5);
    branch->children.borrow_mut()->push_back(leaf);
    *leaf->parent.borrow_mut() = branch;
    std::cout << "branch strong = " << branch.strong_count()
              << ", leaf strong = " << leaf.strong_count() << "\n";
    leaf_handle = leaf.downgrade();
  }  // both variables go, both counts fall to 1 ... and stay there: nothing is destroyed
  std::cout << "live nodes after scope: " << live_nodes
            << " \u2014 leaked (a strong cycle keeps both alive)\n";
  std::cout << "the leaf's strong count is still " << leaf_handle.strong_count()
            << ": the branch owns it, and it owns the branch\n";

  // Break the cycle by hand: reach the leaf through the Weak and take away its Rc to the parent.
  std::cout << "breaking the cycle:\n";
  {
    Rc<CyclicNode> leaf = *leaf_handle.upgrade();
    // take() empties the leaf's parent slot; dropping what it held destroys the branch (that
    // was its last owner), and the branch's children vector releases the leaf.
    memkit::drop(leaf->parent.take());
  }  // `leaf` was the leaf's last owner
  std::cout << "after breaking the cycle: live nodes " << live_nodes << "\n";
  return 0;
}
