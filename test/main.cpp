#define BOOST_TEST_MODULE asio_backoff
#include <boost/test/unit_test.hpp>
