#pragma once

/// The whole public API of kactor.
#include <kactor/config.hpp>
#include <kactor/context.hpp>
#include <kactor/dead_letter.hpp>
#include <kactor/error.hpp>
#include <kactor/event.hpp>
#include <kactor/histogram.hpp>
#include <kactor/reply.hpp>
#include <kactor/runtime.hpp>
#include <kactor/saga.hpp>
#include <kactor/timer.hpp>
#include <kactor/types.hpp>
